#!/usr/bin/env python3
"""Times the seed's Python logic (plain and NumPy) on a cluster file and
checks it computes what carbonkube computes on the same file.

    run_seed.py CLUSTER.json --zones ZONES.yaml --at 2023-07-15T18:00:00Z CSV... [--go-totals GO.json] [--json OUT]

Checks (exits 1 on a mismatch): the plain and NumPy totals are equal; the
seed composite per (pod, node) equals carbonkube's `Engine.score_batch`
totals with the seed profile (every node scored); NodeResourcesFit +
BalancedAllocation per (pod, node) equals carbonkube's with that profile
alone, and kube-scheduler's (the Go plugins' dump) when given. Times are
CPU time (time.process_time), median of --repeat runs; plain Python runs
on the first --plain-pods pods (its cost per node-score does not depend on
how many).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from datetime import datetime

import numpy as np

import seed_scores as ss

FIT_BALANCED = """apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
  plugins:
    multiPoint: {disabled: [{name: '*'}]}
    filter: {enabled: [{name: NodeResourcesFit}]}
    score: {enabled: [{name: NodeResourcesFit}, {name: NodeResourcesBalancedAllocation}]}
"""


def cpu_median(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        ts.append(time.process_time() - t0)
    return statistics.median(ts)


def carbonkube_totals(path: str, zones: str, csvs: list[str], at: str) -> tuple[np.ndarray, np.ndarray]:
    import carbonkube as ck

    # The seed profile as shipped (also what seed_profile_yaml() returns), every node scored.
    seed_cfg = (pathlib.Path(__file__).resolve().parents[2] / "examples/config/katalyst-carbon-scheduler.yaml").read_text()
    key = "- schedulerName: katalyst-carbon-scheduler\n"
    if key not in seed_cfg:
        raise SystemExit("examples/config/katalyst-carbon-scheduler.yaml: no katalyst-carbon-scheduler profile")
    seed_cfg = seed_cfg.replace(key, key + "  percentageOfNodesToScore: 100\n", 1)
    signals = ck.Signals.from_files(*csvs)
    out = []
    for cfg, z in ((seed_cfg, pathlib.Path(zones)), (FIT_BALANCED, None)):
        engine = ck.Engine(cfg, zones=z) if z is not None else ck.Engine(cfg)
        cluster = ck.Cluster(pathlib.Path(path))
        snap = cluster.snapshot(engine, signals, at=at)
        pods = snap.pending_pods(pathlib.Path(path))
        out.append(np.asarray(engine.score_batch(snap, pods, totals=True).totals))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cluster")
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--zones", required=True)
    ap.add_argument("--at", required=True)
    ap.add_argument("--go-totals")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--plain-pods", type=int, default=10)
    ap.add_argument("--json")
    ap.add_argument("--no-check", action="store_true")
    a = ap.parse_args()

    at = datetime.fromisoformat(a.at.replace("Z", "+00:00"))
    nodes, pods = ss.load_cluster(a.cluster)
    intensity = ss.load_intensity(a.csv, at)
    N, P = len(nodes), len(pods)
    pod_cpu = np.array([p["cpu"] for p in pods], dtype=np.int64)
    pod_mem = np.array([p["mem"] for p in pods], dtype=np.int64)
    arrays = ss.NodeArrays(nodes, intensity)

    ok = True
    if not a.no_check:
        plain, plain_chosen = ss.score_plain(nodes, pods, intensity)
        vec, vec_chosen = ss.score_numpy(arrays, pod_cpu, pod_mem)
        plain = np.array(plain, dtype=np.int64)
        fb = np.array(ss.fit_balanced_plain(nodes, pods), dtype=np.int64)
        fbv = ss.fit_balanced_numpy(arrays, pod_cpu, pod_mem)

        def check(name: str, got: np.ndarray, want: np.ndarray) -> None:
            nonlocal ok
            diff = np.argwhere(got != want)
            if diff.size:
                ok = False
                p, n = diff[0]
                print(f"MISMATCH {name}: {len(diff)} of {got.size} (pod {p}, node {n}: {got[p, n]} vs {want[p, n]})")
            else:
                print(f"ok {name}: {got.size} (pod, node) totals equal")

        check("plain Python == NumPy (seed composite)", plain, vec)
        check("plain Python == NumPy (Fit + Balanced)", fb, fbv)
        check("plain vs NumPy selection", np.array(plain_chosen), vec_chosen)
        ck_seed, ck_fb = carbonkube_totals(a.cluster, a.zones, a.csv, a.at)
        check("seed Python == carbonkube (seed profile)", plain, ck_seed)
        check("Python Fit + Balanced == carbonkube", fb, ck_fb)
        if a.go_totals:
            go = np.array(json.load(open(a.go_totals)), dtype=np.int64)
            check("kube-scheduler Go Fit + Balanced == carbonkube", go, ck_fb)

    sub = pods[: a.plain_pods]
    t_plain = cpu_median(lambda: ss.score_plain(nodes, sub, intensity), a.repeat)
    t_plain_fb = cpu_median(lambda: ss.fit_balanced_plain(nodes, sub), a.repeat)
    t_np = cpu_median(lambda: ss.score_numpy(arrays, pod_cpu, pod_mem), a.repeat)
    t_np_fb = cpu_median(lambda: ss.fit_balanced_numpy(arrays, pod_cpu, pod_mem), a.repeat)
    res = {
        "nodes": N, "pods": P,
        "plain_seed_ns_per_node_score": t_plain / (len(sub) * N) * 1e9,
        "plain_fit_balanced_ns_per_node_score": t_plain_fb / (len(sub) * N) * 1e9,
        "numpy_seed_ns_per_node_score": t_np / (P * N) * 1e9,
        "numpy_fit_balanced_ns_per_node_score": t_np_fb / (P * N) * 1e9,
        "checks_passed": ok,
    }
    print(json.dumps(res, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
