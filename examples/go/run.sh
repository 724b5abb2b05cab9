#!/usr/bin/env bash
# examples/go/run.sh <build-dir>: proves the C ABI from Go against the build
# in <build-dir> (e.g. build/): gofmt check, go vet, go test (which compares
# with <build-dir>/bin/carbonkube), then runs cmd/ckscore on the bundled
# example. Everything Go writes (build cache, GOPATH, config, telemetry) goes
# under <build-dir>/go-cache, never $HOME. Exits non-zero on any failure.
#
# Extra arguments after the build dir go to `go test` (e.g. -run Concurrent,
# -race, or -bench . -benchtime=2s -count=5 -run '^$').
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 <build-dir> [go test flags...]" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "$1" && pwd)"
shift
lib="$build/lib"
cli="$build/bin/carbonkube"
if [ ! -e "$lib/libcarbonkube_c.so" ]; then
  echo "run.sh: $lib/libcarbonkube_c.so is missing (build it: bash scripts/build.sh release)" >&2
  exit 1
fi
if [ ! -x "$cli" ]; then
  echo "run.sh: $cli is missing (build it: bash scripts/build.sh release)" >&2
  exit 1
fi
# The machine's Go lives in /usr/local/go; Debian's golang-go (scripts/setup.sh)
# is the fallback.
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { echo "run.sh: go is not installed (bash scripts/setup.sh)" >&2; exit 1; }
# The example needs Go >= 1.21 (the min/max/clear builtins). Debian 12's own
# golang-go is 1.19: say so and skip (exit 77, ctest's SKIP_RETURN_CODE)
# rather than fail on a machine without a newer Go.
go_minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
if [ "${go_minor:-0}" -lt 21 ] 2>/dev/null; then
  echo "run.sh: SKIPPED: $(go env GOVERSION) is older than go1.21, which examples/go needs" >&2
  exit 77
fi

cache="$build/go-cache"
mkdir -p "$cache"
export CGO_ENABLED=1
export CGO_CFLAGS="-O2 -g -I$repo/capi"
export CGO_LDFLAGS="-L$lib -Wl,-rpath,$lib"
export CARBONKUBE_CLI="$cli"
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export GOCACHE="$cache/build"
export GOPATH="$cache/gopath"
export GOMODCACHE="$GOPATH/pkg/mod"
export XDG_CONFIG_HOME="$cache/config" # go env file and telemetry
export GOTELEMETRY=off

cd "$here"
echo "== go $(go env GOVERSION), library $lib" >&2
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
  echo "run.sh: not gofmt'ed: $unformatted" >&2
  exit 1
fi
echo "== go vet ./..." >&2
go vet ./...
echo "== go test ./..." >&2
go test -count=1 "$@" ./...
echo "== ckscore on the bundled example" >&2
go build -o "$cache/bin/ckscore" ./cmd/ckscore
"$cache/bin/ckscore" -repo "$repo"
echo "== ok" >&2
