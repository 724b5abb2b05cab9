#!/usr/bin/env python3
"""Python against the C++ API on the same work (issue 5's targets: batch
scoring within 1.2x of C++ on 5,000 nodes x 1,000 pods; per-call overhead
for a single pod under 3 us).

Run from the repository root after scripts/python.sh and the release build:

    .venv/bin/python bench/bench_python.py [--nodes 5000] [--pods 1000] [--repeat 5]

It writes the cluster to a temporary kubectl-style List, scores every
pending pod from Python (Engine.score_batch, GIL released) and through
build/bin/bench_cluster_file (the C++ API's Scheduler::schedule loop) on
that same file, and prints both with their ratio. Per-call overhead is the
time of one pod against a one-node cluster through Engine.score_batch and
Engine.score, minus the same cycle in C++.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

import numpy as np

import carbonkube as ck

REPO = pathlib.Path(__file__).resolve().parents[1]
GIB = 1 << 30


def node(i: int, cpu: int, mem_gib: int, zone: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"node-{i}", "labels": {"topology.kubernetes.io/region": zone}},
        "status": {"allocatable": {"cpu": f"{cpu}", "memory": f"{mem_gib}Gi", "pods": "110"}},
    }


def pod(name: str, cpu_m: int, mem_mi: int, node_name: str | None) -> dict:
    p = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"}}}]},
    }
    if node_name:
        p["spec"]["nodeName"] = node_name
    return p


def cluster_items(nodes: int, pods: int, seed: int = 42) -> list[dict]:
    rng = np.random.default_rng(seed)
    sizes = [(4, 15), (8, 31), (16, 62), (32, 124), (64, 248)]
    zones = ["us-west-1", "eu-south-1", "eu-north-1", "sa-east-1"]
    items = []
    for i in range(nodes):
        cpu, mem = sizes[int(rng.integers(0, len(sizes)))]
        items.append(node(i, cpu, mem, zones[i % len(zones)]))
        for k in range(10):  # ten bound pods per node
            items.append(pod(f"bound-{i}-{k}", int(rng.integers(50, 300)), int(rng.integers(64, 1024)), f"node-{i}"))
    for j in range(pods):
        items.append(pod(f"pending-{j}", int(rng.integers(100, 4000)), int(rng.integers(128, 8192)), None))
    return items


def cpp_us_per_pod(path: str) -> float:
    exe = REPO / "build/bin/bench_cluster_file"
    out = subprocess.run(
        [str(exe), "--benchmark_format=json", "--benchmark_min_time=1", "--benchmark_repetitions=3",
         "--benchmark_report_aggregates_only=true"],
        check=True, capture_output=True, text=True, env={**os.environ, "CARBONKUBE_BENCH_CLUSTER": path},
    ).stdout
    runs = json.loads(out)["benchmarks"]
    median = next(r for r in runs if r.get("aggregate_name") == "median")
    return float(median["us_per_pod"])


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        # CPU time, like Google Benchmark's: the machine may be shared.
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cluster.json")
        items = cluster_items(a.nodes, a.pods)
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)

        engine = ck.Engine()
        cluster = ck.Cluster(pathlib.Path(path))
        snap = cluster.snapshot(engine)
        pods = snap.pending_pods(pathlib.Path(path))
        ctx = ck.Context(1)
        engine.score_batch(snap, pods, ctx, totals=False)  # warm the context
        py_batch = best_of(lambda: engine.score_batch(snap, pods, ctx, totals=False), a.repeat)
        py_totals = best_of(lambda: engine.score_batch(snap, pods, ctx, totals=True), a.repeat)
        cpp = cpp_us_per_pod(path)
        py_us = py_batch / len(pods) * 1e6
        print(f"{a.nodes} nodes x {len(pods)} pods, seed profile")
        print(f"  C++ Scheduler::schedule loop   {cpp:9.2f} us/pod")
        print(f"  Python Engine.score_batch      {py_us:9.2f} us/pod   ratio {py_us / cpp:.3f}")
        print(f"  ... with the (pods, nodes) totals array  {py_totals / len(pods) * 1e6:9.2f} us/pod")

        # Per-call overhead: one pod, one node.
        one = [node(0, 8, 31, "eu-north-1"), pod("p", 500, 512, None)]
        one_path = os.path.join(tmp, "one.json")
        with open(one_path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": one}, f)
        c1 = ck.Cluster(pathlib.Path(one_path))
        s1 = c1.snapshot(engine)
        p1 = s1.pending_pods(pathlib.Path(one_path))
        n = 20000
        batch_one = best_of(lambda: [engine.score_batch(s1, p1, ctx, totals=False) for _ in range(n)], a.repeat) / n
        select_one = best_of(lambda: [engine.select(s1, p1[0], ctx) for _ in range(n)], a.repeat) / n
        score_one = best_of(lambda: [engine.score(s1, p1[0], ctx) for _ in range(n)], a.repeat) / n
        cpp_one = cpp_us_per_pod(one_path)
        print("one pod, one node")
        print(f"  C++ cycle                      {cpp_one:9.2f} us")
        print(f"  Python Engine.score_batch      {batch_one * 1e6:9.2f} us   overhead {batch_one * 1e6 - cpp_one:.2f} us")
        print(f"  Python Engine.select           {select_one * 1e6:9.2f} us   overhead {select_one * 1e6 - cpp_one:.2f} us")
        print(f"  Python Engine.score            {score_one * 1e6:9.2f} us   overhead {score_one * 1e6 - cpp_one:.2f} us")


if __name__ == "__main__":
    main()
