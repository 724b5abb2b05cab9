#!/usr/bin/env python3
"""Writes the side-by-side benchmark cluster once, as a kubectl List that
every contender reads (carbonkube C++ and Python, the seed's Python logic,
kube-scheduler's Go plugins), plus the ZoneMap for the carbon plugins.

    make_cluster.py OUT.json --nodes 5000 --pods 100 [--seed 42] [--zones OUT-zones.yaml]

Nodes: five sizes (4..64 cores, 15..248 GiB), region label in four regions
mapped to the bundled Electricity Maps zones, ten bound pods each. Pending
pods request 100m..4 CPU and 128Mi..8Gi, no carbon annotations.
"""

from __future__ import annotations

import argparse
import json
import random

REGIONS = {"us-west-1": "US-CAL-CISO", "eu-south-2": "ES", "eu-north-1": "NO", "sa-east-1": "BR"}
SIZES = [(4, 15), (8, 31), (16, 62), (32, 124), (64, 248)]


def pod(name: str, cpu_m: int, mem_mi: int, node_name: str | None) -> dict:
    p: dict = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"}}}]},
    }
    if node_name:
        p["spec"]["nodeName"] = node_name
    return p


def items(nodes: int, pods: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    regions = list(REGIONS)
    out: list[dict] = []
    for i in range(nodes):
        cpu, mem = SIZES[rng.randrange(len(SIZES))]
        name = f"node-{i}"
        out.append({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                   "topology.kubernetes.io/region": regions[i % len(regions)]}},
            "status": {"allocatable": {"cpu": str(cpu), "memory": f"{mem}Gi", "pods": "110"}},
        })
        for k in range(10):
            out.append(pod(f"bound-{i}-{k}", rng.randrange(50, 700), rng.randrange(64, 2048), name))
    for j in range(pods):
        out.append(pod(f"pending-{j}", rng.randrange(100, 4000), rng.randrange(128, 8192), None))
    return out


def zones_yaml() -> str:
    lines = ["kind: ZoneMap", "unknownZone: neutral", "regions:"]
    lines += [f'  {r}: "{z}"' for r, z in REGIONS.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--pods", type=int, default=100)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--zones", help="also write the ZoneMap here")
    a = ap.parse_args()
    with open(a.out, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items(a.nodes, a.pods, a.seed)}, f)
    if a.zones:
        with open(a.zones, "w") as f:
            f.write(zones_yaml())


if __name__ == "__main__":
    main()
