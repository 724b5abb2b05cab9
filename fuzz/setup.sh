#!/usr/bin/env bash
# Installs what the fuzz targets need beyond scripts/setup.sh: clang with
# libFuzzer and the sanitizer runtimes (Debian's clang package brings
# compiler-rt through libclang-common-*-dev). Idempotent.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/../scripts/setup.sh"

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz/setup: installing clang" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y clang
fi
