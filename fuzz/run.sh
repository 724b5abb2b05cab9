#!/usr/bin/env bash
# Runs libFuzzer targets for a given time. Usage:
#   fuzz/run.sh TARGET SECONDS [-- LIBFUZZER_ARGS...]   one target (quantity, signals, capi, ...)
#   fuzz/run.sh all SECONDS                              every target in turn, SECONDS each
#   fuzz/run.sh TARGET 0 | all 0                         replay the committed corpus only
#   fuzz/run.sh list                                     the targets
#   fuzz/run.sh minimize TARGET|all                      shrink fuzz/corpus/TARGET to the
#                                                        inputs that keep its edge coverage
# Builds the targets first (fuzz/build.sh). New inputs go to
# BUILD/corpus/TARGET; the committed corpus fuzz/corpus/TARGET is read, never
# written (CARBONKUBE_FUZZ_MERGE=1 merges the inputs that add coverage back
# into it). Crashes, leaks, timeouts and out-of-memory inputs are saved as
# BUILD/findings/TARGET-*; each should become a test in tests/test_bad_inputs.cpp.
# Prints one summary line per target; exits 1 if any target found something.
# CARBONKUBE_FUZZ_BUILD: build directory (default <repo>/build-fuzzers).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${CARBONKUBE_FUZZ_BUILD:-$root/build-fuzzers}"

targets() { (cd "$here/targets" && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//'); }

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
if [ "$1" = list ]; then targets; exit 0; fi
if [ "$1" = minimize ]; then
  [ $# -ge 2 ] || usage
  [ "$2" = all ] && set -- minimize $(targets) || set -- minimize "$2"
  shift
  for t in "$@"; do
    dir="$here/corpus/$t" tmp="$build/minimized/$t"
    rm -rf "$tmp" && mkdir -p "$tmp"
    # Edges only (no hit counters): a much smaller set that keeps every
    # branch the corpus reaches; seeds are always kept.
    "$build/bin/fuzz_$t" -merge=1 -use_counters=0 -timeout=10 "$tmp" "$dir" \
      >"$build/minimized/$t.log" 2>&1
    cp "$dir"/seed-* "$tmp"/ 2>/dev/null || true
    before=$(ls "$dir" | wc -l)
    rm -rf "$dir" && mv "$tmp" "$dir"
    echo "$t: $before -> $(ls "$dir" | wc -l) files, $(du -sk "$dir" | cut -f1) KiB"
  done
  exit 0
fi
[ $# -ge 2 ] || usage
what="$1"; seconds="$2"; shift 2
[ "${1:-}" = "--" ] && shift
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

if [ "${CARBONKUBE_FUZZ_NO_BUILD:-0}" != 1 ]; then "$here/build.sh" "$build" >&2; fi

# Per-target input size: the signal loaders and the C ABI read whole files.
max_len() {
  case "$1" in
    quantity|timestamp) echo 256 ;;
    signals|capi|kube_objects|cnr) echo 16384 ;;
    rl_state) echo 32768 ;;  # a saved state is 11-19 KB
    *) echo 8192 ;;
  esac
}

status=0
run_one() {
  local t="$1" bin="$build/bin/fuzz_$1"
  shift
  [ -x "$bin" ] || { echo "no such target: $t (fuzz/run.sh list)" >&2; exit 2; }
  local work="$build/corpus/$t" findings="$build/findings" log="$build/logs/$t.log"
  mkdir -p "$work" "$findings" "$build/logs" "$here/corpus/$t"
  local args=(-max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$findings/$t-")
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  local start=$SECONDS rc=0
  if [ "$seconds" = 0 ]; then
    "$bin" "${args[@]}" -runs=0 "$here/corpus/$t" "$@" >"$log" 2>&1 || rc=$?
  else
    "$bin" "${args[@]}" -max_total_time="$seconds" "$work" "$here/corpus/$t" "$@" >"$log" 2>&1 || rc=$?
  fi
  local execs cov ft
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  if [ "$rc" = 0 ]; then
    if [ "${CARBONKUBE_FUZZ_MERGE:-0}" = 1 ] && [ "$seconds" != 0 ]; then
      "$bin" -merge=1 -max_len="$(max_len "$t")" -timeout=10 "$here/corpus/$t" "$work" \
        >>"$log" 2>&1 || rc=$?
    fi
    printf '%-18s %5ss  %9s runs  cov %-6s ft %-6s corpus %-5s ok\n' "$t" "$((SECONDS - start))" \
      "$execs" "$cov" "$ft" "$(ls "$here/corpus/$t" | wc -l)"
  else
    printf '%-18s %5ss  %9s runs  cov %-6s FOUND SOMETHING (exit %s): %s\n' "$t" \
      "$((SECONDS - start))" "$execs" "$cov" "$rc" "$(grep -m1 -E 'ERROR|FUZZ ORACLE|==[0-9]+==' "$log" || true)"
    echo "  log: $log; input: $(ls -t "$findings/$t-"* 2>/dev/null | head -1)"
    status=1
  fi
}

if [ "$what" = all ]; then
  for t in $(targets); do run_one "$t" "$@"; done
else
  run_one "$what" "$@"
fi
exit $status
