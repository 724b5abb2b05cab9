#!/usr/bin/env python3
"""Log-log cost curves from Google Benchmark JSON (--benchmark_format=json,
with --benchmark_repetitions: the median aggregate is used; CPU time).

    cost_curve.py --nodes bench_scoring.json --pods p1.json p10.json ... --out DIR

--nodes: BM_ScoreFitBalanced/<nodes> from bench_scoring (one pod, N nodes).
--pods: BM_CompareFitBalanced from bench_compare on clusters of 5,000 nodes
and P pending pods (its "pods" counter). Writes DIR/cost-vs-nodes.png and
DIR/cost-vs-pods.png, each with the time per cycle (left axis) and a dashed
linear reference through the first point, and prints the points.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def medians(path: str, prefix: str) -> list[dict]:
    out = []
    for b in json.load(open(path))["benchmarks"]:
        if b["name"].startswith(prefix) and b.get("aggregate_name", "median") == "median":
            out.append(b)
    return out


def seconds(b: dict) -> float:
    return float(b["cpu_time"]) * UNIT[b.get("time_unit", "ns")]


def plot(xs: list[float], ys: list[float], scores: list[float], xlabel: str, title: str, path: pathlib.Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=120)
    ax.loglog(xs, [y * 1e6 for y in ys], "o-", label="carbonkube (CPU time)")
    ax.loglog(xs, [ys[0] * 1e6 * x / xs[0] for x in xs], "--", color="grey", label="linear from the first point")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("time per cycle / batch (µs)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax2 = ax.twinx()
    ax2.semilogx(xs, [y * 1e9 / k for k, y in zip(scores, ys)], "s:", color="tab:red", alpha=0.7)
    ax2.set_ylabel("ns per node-score", color="tab:red")
    ax2.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--pods", nargs="+", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    pts = sorted((int(b["run_name"].split("/")[1]), seconds(b)) for b in medians(a.nodes, "BM_ScoreFitBalanced/"))
    plot([p[0] for p in pts], [p[1] for p in pts], [p[0] for p in pts], "nodes (one pod)",
         "NodeResourcesFit + BalancedAllocation, one pod vs N nodes", out / "cost-vs-nodes.png")
    print("nodes  us/cycle  ns/node")
    for n, s in pts:
        print(f"{n:7d} {s * 1e6:9.2f} {s * 1e9 / n:8.2f}")

    pp = []
    for path in a.pods:
        for b in medians(path, "BM_CompareFitBalanced"):
            pp.append((int(b["pods"]), int(b["nodes"]), seconds(b)))
    pp.sort()
    plot([p[0] for p in pp], [p[2] for p in pp], [p[0] * p[1] for p in pp], f"pending pods ({pp[0][1]} nodes)",
         f"Fit + Balanced, P pods x {pp[0][1]} nodes (pod by pod)", out / "cost-vs-pods.png")
    print("pods  nodes  us/batch  ns/node-score")
    for p, n, s in pp:
        print(f"{p:5d} {n:6d} {s * 1e6:10.1f} {s * 1e9 / (p * n):8.2f}")


if __name__ == "__main__":
    main()
