#!/usr/bin/env python3
"""Plots the allocator evaluation's per-seed results (docs/allocator.md).

    .venv/bin/python scripts/plot_allocator.py docs/allocator-results.csv docs/img

reads the CSV that `carbonkube evaluate-allocator --seeds 10 --csv FILE`
writes (one row per seed and policy) and writes two PNGs: slack against
kgCO2 per seed and policy (the frontier the RL and the carbon rule sit on),
and OOM kills and SLO violations per policy (mean and 95 % interval over
seeds)."""

from __future__ import annotations

import csv
import math
import pathlib
import statistics
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rows = list(csv.DictReader(src.open()))
    by_policy: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_policy[r["policy"]].append(r)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for policy, rs in by_policy.items():
        ax.scatter([float(r["relative_slack"]) for r in rs], [float(r["kg_co2"]) for r in rs], label=policy, s=18)
    ax.set_xlabel("relative slack (allocated but unused)")
    ax.set_ylabel("kgCO2e of the allocations")
    ax.set_title("Allocator policies, one point per seed")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "allocator-slack-carbon.png", dpi=110)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    policies = list(by_policy)
    for ax, key, label in (
        (axes[0], "ooms_per_container_day", "OOM kills per container-day"),
        (axes[1], "slo_violation_rate", "SLO-violation rate"),
    ):
        means, errs = [], []
        for p in policies:
            v = [float(r[key]) for r in by_policy[p]]
            means.append(statistics.mean(v))
            errs.append(1.96 * statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else 0.0)
        ax.bar(range(len(policies)), means, yerr=errs, capsize=3, color="#4c78a8")
        ax.set_xticks(range(len(policies)), policies, rotation=30, ha="right", fontsize=8)
        ax.set_title(label + " (mean, 95 % CI)")
    fig.tight_layout()
    fig.savefig(out / "allocator-oom-slo.png", dpi=110)
    print(f"wrote {out}/allocator-slack-carbon.png and {out}/allocator-oom-slo.png")


if __name__ == "__main__":
    main()
