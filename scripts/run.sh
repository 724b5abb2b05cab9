#!/usr/bin/env bash
# The main job: how much carbon does carbonkube save on real data?
# Sets up (Debian packages, .venv/ with the Python package and matplotlib),
# builds, then replays a year of Azure batch jobs (data/workloads/) on a
# four-zone cluster with real Electricity Maps 2023 intensity (California,
# Spain, Norway, Brazil) under every policy — kube-scheduler's default,
# carbon-aware placement, temporal shifting with the planner's forecasts,
# both, and the perfect-knowledge oracle of each — and writes report/:
# results.json and CSVs, PNG plots and report.html. A summary goes to the
# terminal. Extra arguments go to `carbonkube simulate` (e.g. --slack-hours 12).
# Scoring one cluster with explanations: scripts/score-example.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh release >&2
bash scripts/python.sh >&2
data=data/carbon/electricitymaps
out="${CARBONKUBE_REPORT_DIR:-report}"
mkdir -p "$out"
build/bin/carbonkube simulate \
  --trace data/workloads/azure-100k.csv \
  --signals "$data/US-CAL-CISO_2023_hourly.csv" \
  --signals "$data/ES_2023_hourly.csv" \
  --signals "$data/NO_2023_hourly.csv" \
  --signals "$data/BR_2023_hourly.csv" \
  --out "$out" "$@"
.venv/bin/python scripts/report.py "$out"
echo "report: $out/report.html" >&2
