#!/usr/bin/env bash
# The fuzz step of scripts/test.sh: builds every libFuzzer target (clang,
# ASan + UBSan; fuzz/build.sh) and runs each for a short bounded time from the
# committed corpus (fuzz/run.sh all SECONDS). Fails if any target finds a
# crash, leak, timeout, out-of-memory input or oracle violation.
#   CARBONKUBE_TEST_FUZZ=0          skip the step (prints why)
#   CARBONKUBE_FUZZ_SECONDS=N       seconds per target (default: what fits the budget)
#   CARBONKUBE_FUZZ_BUDGET=N        the step's whole budget in seconds, build included
#                                   (default 320: with a cached build the step takes under 6 minutes)
# Without SECONDS, each target gets (budget - build time) / targets, at most 25
# s and at least 5 s. Build objects are cached by ccache when installed, so a
# second run spends nearly all its budget fuzzing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${CARBONKUBE_TEST_FUZZ:-1}" = 0 ]; then
  echo "fuzz: skipped (CARBONKUBE_TEST_FUZZ=0)"
  exit 0
fi
budget="${CARBONKUBE_FUZZ_BUDGET:-320}"
start=$SECONDS
build="${CARBONKUBE_FUZZ_BUILD:-$(cd "$here/.." && pwd)/build-fuzzers}"
"$here/build.sh" "$build" >/dev/null
built=$((SECONDS - start))
targets=$("$here/run.sh" list | wc -l)
seconds="${CARBONKUBE_FUZZ_SECONDS:-}"
if [ -z "$seconds" ]; then
  seconds=$(((budget - built) / targets))
  [ "$seconds" -gt 25 ] && seconds=25
  [ "$seconds" -lt 5 ] && seconds=5
fi
echo "fuzz: $targets targets built in ${built}s; ${seconds}s each from the committed corpus"
rc=0
CARBONKUBE_FUZZ_BUILD="$build" CARBONKUBE_FUZZ_NO_BUILD=1 "$here/run.sh" all "$seconds" || rc=$?
echo "fuzz: done in $((SECONDS - start))s"
if [ "$rc" != 0 ]; then
  echo "fuzz: a target found something: make the input a test in tests/test_bad_inputs.cpp," \
    "fix it, and see docs/reliability.md" >&2
fi
exit "$rc"
