#!/usr/bin/env bash
# Scoring explained: sets up, builds, and scores the bundled example cluster with
# the seed's katalyst-carbon-scheduler profile, real Electricity Maps 2023
# carbon intensity for its three grid zones (California, Spain, Norway) at a
# summer evening hour, and Katalyst CNR topology; prints the explained result.
# Extra arguments are passed on (e.g. --at 2023-01-15T12:00:00Z).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release >&2
data=data/carbon/electricitymaps
exec build/bin/carbonkube score \
  --nodes examples/cluster/nodes.json \
  --pods examples/cluster/pods.yaml \
  --cnrs examples/cluster/cnrs.yaml \
  --signals "$data/US-CAL-CISO_2023_hourly.csv" \
  --signals "$data/ES_2023_hourly.csv" \
  --signals "$data/NO_2023_hourly.csv" \
  --zones examples/config/zones.yaml \
  --at 2023-07-15T18:00:00Z \
  --explain "$@"
