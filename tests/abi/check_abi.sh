#!/usr/bin/env bash
# check_abi.sh LIB BASELINE HEADERS_DIR [--update]: compares the ABI of the
# shared library (its exported ck_ functions and every type they reach, from
# its DWARF) with the committed baseline, using libabigail's abidiff. Added
# functions are allowed; any other difference (a removed or changed function,
# a struct field moved or resized, an enum value changed) fails. A deliberate
# extension (say, a field appended to an options struct) is recorded with
# --update, and the new baseline is committed with the change.
set -euo pipefail
lib="$1" baseline="$2" headers="$3"
dump() {
  abidw --no-corpus-path --no-comp-dir-path --short-locs --exported-interfaces-only \
        --drop-undefined-syms --headers-dir "$headers" --drop-private-types --out-file "$1" "$lib"
}
if [ "${4:-}" = "--update" ]; then
  dump "$baseline"
  echo "abi: baseline written to $baseline"
  exit 0
fi
[ -f "$baseline" ] || { echo "abi: no baseline $baseline (run with --update)" >&2; exit 1; }
set +e
report=$(abidiff --no-added-syms --headers-dir2 "$headers" --drop-private-types "$baseline" "$lib" 2>&1)
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "abi: $lib breaks the baseline $baseline (abidiff exit $rc):" >&2
  echo "$report" >&2
  echo "abi: if the change is a deliberate, compatible extension, run: $0 $lib $baseline $headers --update" >&2
  exit 1
fi
echo "abi: compatible with $(basename "$baseline")"
