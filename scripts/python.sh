#!/usr/bin/env bash
# Creates .venv/ at the repository root (once) and installs the Python
# package `carbonkube` into it with its test and plotting dependencies, from
# PyPI. The C++ build is incremental (build-python/), so a second run only
# recompiles what changed. Afterwards `.venv/bin/python -c "import carbonkube"`
# works and `carbonkube` (the CLI) is on the venv's PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
py="${CARBONKUBE_PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
# The build backend and everything the tests, benchmarks and report need.
"${pip[@]}" install "scikit-build-core>=0.10" "pybind11>=2.12" "numpy>=1.23" \
  "pytest>=7" "hypothesis>=6" "pyyaml>=6" "matplotlib>=3.6" "pytest-benchmark>=4"
# No build isolation: the backend above is reused and build-python/ keeps
# the C++ objects between runs.
"${pip[@]}" install --no-build-isolation --no-deps .
