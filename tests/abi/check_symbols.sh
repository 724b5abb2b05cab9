#!/usr/bin/env bash
# check_symbols.sh LIB HEADER: the shared library exports exactly the
# functions that HEADER declares with CK_API, and nothing else (no C++
# symbols of the static core, no ck_ function missing from the header).
set -euo pipefail
lib="$1" header="$2"
declared=$(tr '\n' ' ' <"$header" | grep -oE 'CK_API [^;{]*\(' | grep -oE 'ck_[a-z0-9_]+ *\($' |
           tr -d ' (' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWwDdBbRrVvi]$/ {print $3}' | sed 's/@.*//' | sort -u)
if [ "$declared" != "$exported" ]; then
  echo "exported symbols of $lib differ from the CK_API functions of $header:" >&2
  diff <(echo "$declared") <(echo "$exported") | sed 's/^</  declared only:/; s/^>/  exported only:/' >&2
  exit 1
fi
echo "symbols: $(echo "$exported" | wc -l) exported, all declared in $(basename "$header")"
