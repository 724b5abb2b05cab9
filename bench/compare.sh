#!/usr/bin/env bash
# bench/compare.sh: carbonkube side by side with what a user would otherwise
# run, on ONE generated cluster (a kubectl List every contender reads):
#   - carbonkube C++ (build/bin/bench_compare: Fit+Balanced, and the seed profile
#     with carbon conditions from the bundled Electricity Maps data),
#   - the seed's Python logic, plain and NumPy (bench/seed_python/), checked to
#     give the same per-(pod, node) totals as carbonkube,
#   - kube-scheduler v1.34.4's own NodeResourcesFit + BalancedAllocation
#     (bench/kube-scheduler-go/), checked to give the same scores,
#   - the physical limit: bytes a node-score must read / measured read rate.
# Prints a table of CPU time per node-score and the ratios; writes JSON and
# the cost-curve plots. All times are CPU time (the machine may be shared).
#
#   bash bench/compare.sh                      # 5,000 nodes x 100 pending pods
#   NODES=1000 PODS=50 REPS=3 bash bench/compare.sh
# Env: BUILD (default build-compare), OUT (default $BUILD/compare), NODES,
# PODS, REPS, AT (default 2023-07-15T18:00:00Z), JOBS (default 2),
# CURVES=0 to skip the cost curves, GO (default /usr/local/go/bin/go).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
BUILD=${BUILD:-$REPO/build-compare}
OUT=${OUT:-$BUILD/compare}
NODES=${NODES:-5000}
PODS=${PODS:-100}
REPS=${REPS:-3}
AT=${AT:-2023-07-15T18:00:00Z}
JOBS=${JOBS:-2}
CURVES=${CURVES:-1}
GO=${GO:-/usr/local/go/bin/go}
PY=${PY:-$REPO/.venv/bin/python}
mkdir -p "$OUT"

echo "== build ($BUILD)"
[ -f "$BUILD/build.ninja" ] || cmake -S "$REPO" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCARBONKUBE_WERROR=ON -DCARBONKUBE_INSTALL=OFF >/dev/null
cmake --build "$BUILD" --target bench_compare bench_stream bench_scoring -j"$JOBS" >/dev/null

D=data/carbon/electricitymaps
CSVS=("$D/US-CAL-CISO_2023_hourly.csv" "$D/ES_2023_hourly.csv" "$D/NO_2023_hourly.csv" "$D/BR_2023_hourly.csv")
AT_UNIX=$("$PY" -c "import datetime,sys; print(int(datetime.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00')).timestamp()))" "$AT")
CLUSTER=$OUT/cluster-${NODES}x${PODS}.json
"$PY" bench/seed_python/make_cluster.py "$CLUSTER" --nodes "$NODES" --pods "$PODS" --zones "$OUT/zones.yaml"

export CARBONKUBE_BENCH_ZONES=$OUT/zones.yaml CARBONKUBE_BENCH_AT=$AT_UNIX
CARBONKUBE_BENCH_SIGNALS=$(IFS=:; echo "${CSVS[*]}")
export CARBONKUBE_BENCH_SIGNALS
GB=(--benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true --benchmark_format=json)

echo "== carbonkube C++ ($NODES nodes x $PODS pods)"
CARBONKUBE_BENCH_CLUSTER=$CLUSTER "$BUILD/bin/bench_compare" "${GB[@]}" --benchmark_min_time=1 >"$OUT/carbonkube.json"

echo "== kube-scheduler v1.34.4 plugins (Go, GOMAXPROCS=1)"
export GOPATH=$BUILD/go-cache/path GOCACHE=$BUILD/go-cache/cache GOMODCACHE=$BUILD/go-cache/mod GOFLAGS=-modcacherw GOTOOLCHAIN=local
(cd bench/kube-scheduler-go &&
  CARBONKUBE_BENCH_CLUSTER=$CLUSTER CARBONKUBE_GO_TOTALS=$OUT/go-totals.json GOMAXPROCS=1 \
    "$GO" test -run TestDumpTotals -bench . -benchtime=2s -count="$REPS" . >"$OUT/go-bench.txt")

echo "== the seed's Python logic (checks against carbonkube and kube-scheduler first)"
"$PY" bench/seed_python/run_seed.py "$CLUSTER" "${CSVS[@]}" --zones "$OUT/zones.yaml" --at "$AT" \
  --go-totals "$OUT/go-totals.json" --repeat "$REPS" --json "$OUT/python.json"

echo "== memory bandwidth (STREAM-like, one core)"
"$BUILD/bin/bench_stream" "${GB[@]}" --benchmark_min_time=0.3 >"$OUT/stream.json"

if [ "$CURVES" = 1 ]; then
  echo "== cost curves (time vs nodes, vs pods)"
  "$BUILD/bin/bench_scoring" "${GB[@]}" --benchmark_min_time=0.5 --benchmark_filter='BM_ScoreFitBalanced' \
    >"$OUT/curve-nodes.json"
  for p in 1 10 100 1000; do
    "$PY" bench/seed_python/make_cluster.py "$OUT/curve-pods-$p.json" --nodes 5000 --pods "$p"
    CARBONKUBE_BENCH_CLUSTER=$OUT/curve-pods-$p.json "$BUILD/bin/bench_compare" "${GB[@]}" \
      --benchmark_min_time=0.5 --benchmark_filter=BM_CompareFitBalanced >"$OUT/curve-pods-$p.bench.json"
  done
  "$PY" bench/cost_curve.py --nodes "$OUT/curve-nodes.json" --pods "$OUT"/curve-pods-*.bench.json \
    --out "${IMG:-$OUT}"
fi

echo "== results"
"$PY" - "$OUT" <<'PYEOF'
import json, re, statistics, sys, pathlib
out = pathlib.Path(sys.argv[1])
def median(js, name, key):
    for b in json.load(open(js))["benchmarks"]:
        if b["name"].startswith(name) and b.get("aggregate_name") == "median":
            return float(b[key])
    raise SystemExit(f"{name} not in {js}")
ck_fb = median(out / "carbonkube.json", "BM_CompareFitBalanced", "ns_per_node_score")
ck_seed = median(out / "carbonkube.json", "BM_CompareSeedProfile", "ns_per_node_score")
bytes_node = median(out / "carbonkube.json", "BM_CompareFitBalanced", "snapshot_bytes_per_node")
go = {}
for line in open(out / "go-bench.txt"):
    m = re.match(r"Benchmark(\w+?)(?:-\d+)?\s+\d+\s+.*?([\d.]+) cpu-ns/node-score", line)
    if m:
        go.setdefault(m.group(1), []).append(float(m.group(2)))
go = {k: statistics.median(v) for k, v in go.items()}
py = json.load(open(out / "python.json"))
st = {}
for b in json.load(open(out / "stream.json"))["benchmarks"]:
    if b.get("aggregate_name") == "median":
        st[b["run_name"]] = b["bytes_per_second"]
nodes, pods = py["nodes"], py["pods"]
# The bytes a Fit+Balanced node-score must read at least: allocatable cpu, memory,
# pods; requested cpu, memory; non-zero requested cpu, memory (int64) + pod count (int32).
need = 7 * 8 + 4
ws = need * nodes
sizes = sorted((int(k.split("/")[1]), v) for k, v in st.items() if k.startswith("BM_StreamRead/"))
bw = next((v for s, v in sizes if s >= ws), sizes[-1][1])
limit = need / bw * 1e9
rows = [
    ("carbonkube C++, NodeResourcesFit + BalancedAllocation", ck_fb, None),
    ("kube-scheduler v1.34.4 Go plugins, Fit filter + Fit + Balanced", go.get("FitBalancedCycle"), "target: ratio < 1"),
    ("kube-scheduler v1.34.4 Go plugins, PreScore + Score only", go.get("FitBalancedScoreOnly"), None),
    ("plain Python, Fit + Balanced", py["plain_fit_balanced_ns_per_node_score"], None),
    ("NumPy, Fit + Balanced", py["numpy_fit_balanced_ns_per_node_score"], None),
    ("physical limit: %d B/node at %.1f GB/s (read, %d KiB set)" % (need, bw / 1e9, ws >> 10), limit, "target: ratio <= 3"),
    ("carbonkube C++, seed profile (7 plugins, carbon data)", ck_seed, None),
    ("plain Python, seed composite + allocation", py["plain_seed_ns_per_node_score"], "target: ratio <= 0.01"),
    ("NumPy, seed composite + allocation", py["numpy_seed_ns_per_node_score"], "target: ratio <= 0.2"),
]
print(f"{nodes} nodes x {pods} pending pods; CPU ns per node-score (median of runs)")
print(f"{'contender':66} {'ns/node-score':>13} {'carbonkube/it':>14}")
res = {}
for i, (name, v, note) in enumerate(rows):
    ck = ck_seed if i >= 6 else ck_fb
    ratio = ck / v if v else float("nan")
    res[name] = {"ns_per_node_score": v, "carbonkube_over_it": ratio}
    print(f"{name:66} {v:13.2f} {ratio:14.4f}  {note or ''}")
print(f"checks (same totals everywhere): {'passed' if py['checks_passed'] else 'FAILED'}")
json.dump(res, open(out / "summary.json", "w"), indent=1)
PYEOF
