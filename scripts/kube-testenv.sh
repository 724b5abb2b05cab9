#!/usr/bin/env bash
# A real Kubernetes control plane (kube-apiserver v1.34.4 + embedded etcd
# v3.6.4, built from the Go module proxy) on loopback, and carbonkube-host's
# integration tests against it (tests/kube/, docs/kube-integration.md).
#
#   scripts/kube-testenv.sh build            build kube-testenv (Go build cache), print its path
#   scripts/kube-testenv.sh up [DIR] [FLAGS]  start etcd + kube-apiserver, print the kubeconfig
#                                            paths (also DIR/env.sh); Ctrl-C stops both.
#                                            FLAGS go to kube-apiserver (e.g. --watch-cache=false)
#   scripts/kube-testenv.sh test [ARGS]      go test ./... in tests/kube against the host binary
#                                            ($CARBONKUBE_HOST, default build/bin/carbonkube-host);
#                                            exit 77 (skipped) when Go or the host binary is missing
#   scripts/kube-testenv.sh bench [CASES]    pods bound per second, CASES like 1000x5000,5000x10000;
#                                            KUBE_BENCH_MODES=live,precreated (integration/throughput_test.go)
#
# Environment: KUBE_TESTENV_BIN (where the binary goes), CARBONKUBE_HOST,
# KUBE_TEST_WORKDIR (where each test's logs and etcd data go; kept on failure).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
module="$root/tests/kube"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/carbonkube"
export KUBE_TESTENV_BIN="${KUBE_TESTENV_BIN:-$cache/kube-testenv}"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
export GOTOOLCHAIN=local

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  fi
}
GO="$(find_go)"

need_go() {
  if [[ -z "$GO" ]]; then
    echo "SKIP: Go is not installed (needed to build kube-apiserver and run tests/kube)" >&2
    exit 77
  fi
  # k8s.io/kubernetes v1.34 needs Go >= 1.24 (tests/kube/go.mod); an older Go
  # (Debian bookworm's golang-go is 1.19) cannot build it.
  local version
  version="$("$GO" env GOVERSION 2>/dev/null || true)"
  if [[ "$version" =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] < 24)); then
    echo "SKIP: $version is older than the Go 1.24 that kube-apiserver v1.34 needs" >&2
    exit 77
  fi
}

build() {
  need_go
  mkdir -p "$(dirname "$KUBE_TESTENV_BIN")"
  local started=$SECONDS
  # The version kube-apiserver reports (/version), as the release build sets it.
  local pkg=k8s.io/component-base/version
  (cd "$module" && "$GO" build -p 1 \
    -ldflags "-X $pkg.gitVersion=v1.34.4 -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean" \
    -o "$KUBE_TESTENV_BIN" ./cmd/kube-testenv)
  echo "kube-testenv built in $((SECONDS - started)) s: $KUBE_TESTENV_BIN" >&2
}

command="${1:-test}"
shift || true
case "$command" in
  build)
    build
    echo "$KUBE_TESTENV_BIN"
    ;;
  up)
    build
    dir="${1:-$root/build-kube/env}"
    shift || true
    rm -rf "$dir/etcd-data"
    exec "$KUBE_TESTENV_BIN" up --dir "$dir" "$@"
    ;;
  test)
    need_go
    host="${CARBONKUBE_HOST:-$root/build/bin/carbonkube-host}"
    if [[ ! -x "$host" ]]; then
      echo "SKIP: carbonkube-host not found at $host (cmake --build build --target carbonkube_host_bin, or set CARBONKUBE_HOST)" >&2
      exit 77
    fi
    export CARBONKUBE_HOST="$host"
    build
    cd "$module"
    exec "$GO" test -p 1 -count=1 -timeout 15m ./... "$@"
    ;;
  bench)
    need_go
    export CARBONKUBE_HOST="${CARBONKUBE_HOST:-$root/build/bin/carbonkube-host}"
    export KUBE_BENCH="${1:-1000x5000,5000x10000}"
    export KUBE_BENCH_MODES="${KUBE_BENCH_MODES:-live,precreated}"
    build
    cd "$module"
    exec "$GO" test -count=1 -timeout 90m -run 'TestThroughput' -v ./integration
    ;;
  *)
    echo "usage: $0 build|up [DIR]|test [go test args]|bench [NODESxPODS,...]" >&2
    exit 2
    ;;
esac
