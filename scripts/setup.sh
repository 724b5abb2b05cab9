#!/usr/bin/env bash
# Installs what carbonkube needs to build and test, from Debian's packages.
# Idempotent: installs only what is missing. Used by scripts/run.sh and
# scripts/test.sh, so a fresh machine needs nothing done by hand.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config libeigen3-dev libfmt-dev libyaml-cpp-dev
          nlohmann-json3-dev libbenchmark-dev doctest-dev clang-format
          libcurl4-openssl-dev libcpp-httplib-dev libssl-dev openssl ccache
          abigail-tools python3-venv python3-dev)

missing=()
# Go for the cgo example (examples/go): the machine's own /usr/local/go, else Debian's.
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then packages+=(golang-go); fi
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
