#!/usr/bin/env bash
# The main job: sets up, builds, and scores the bundled example cluster with
# the bundled scheduler configuration, printing the explained result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release >&2
exec build/bin/carbonkube score \
  --config examples/cluster/scheduler.yaml \
  --nodes examples/cluster/nodes.json \
  --pods examples/cluster/pods.yaml \
  --explain "$@"
