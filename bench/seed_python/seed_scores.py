#!/usr/bin/env python3
"""The seed's composite score and allocation written the way a user would:
plain Python (`score_plain`) and NumPy-vectorised (`score_numpy`).

Same inputs as carbonkube (a kubectl List, the ZoneMap regions, the bundled
Electricity Maps CSVs) and the same formulas as carbonkube's seed profile
(docs/carbon-scoring.md, docs/scheduling.md):

  total = 30 Carbon + 25 QoS + 20 Topology + 15 Fit + 10 NodeAffinity
          + 3 TaintToleration + 1 BalancedAllocation

with, for the benchmark's pods (requests set, no carbon annotations) and
nodes (no taints, no CNRs): Fit = LeastAllocated on cpu and memory with
non-zero requests; Balanced = int((1 - |f_cpu - f_mem| / 2) * 100);
Carbon = 50 + 50 (T - I) / T below T = 300, else 50 exp(-2 (I - T) / T),
rounded; QoS = 50 + 0.5 (greenness - 50) for a burstable pod (greenness 100,
50, 0 for a zone in green-guaranteed, mixed-burstable, dirty-besteffort by
its intensity against 100 / 300 / 500); Topology 50 (no CNR); TaintToleration
100 (no taints, reversed normalisation); NodeAffinity skipped (no preferred
terms, contributes 0). Filter: NodeResourcesFit (cpu, memory, pod count).
Allocation: the highest total; ties to the first node (carbonkube breaks
ties at random, so only totals are compared exactly).
"""

from __future__ import annotations

import csv
import json
import math
from datetime import datetime, timezone

import numpy as np

REGION_ZONE = {"us-west-1": "US-CAL-CISO", "eu-south-2": "ES", "eu-north-1": "NO", "sa-east-1": "BR"}
W_CARBON, W_QOS, W_TOPO, W_FIT, W_AFF, W_TAINT, W_BAL = 30, 25, 20, 15, 10, 3, 1
THRESHOLD, GREEN_BONUS, DIRTY_PENALTY = 300.0, 50.0, 100.0
PROFILE_THRESHOLDS = (100.0, 300.0, 500.0)  # green-guaranteed, mixed-burstable, dirty-besteffort
BURSTABLE_WEIGHT = 50.0
SUFFIX = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 10**3, "M": 10**6, "G": 10**9}


def milli(q: str) -> int:
    """A quantity in milli-units, rounded up (the forms the benchmark writes)."""
    if q.endswith("m"):
        return int(q[:-1])
    for s, mul in SUFFIX.items():
        if q.endswith(s):
            return int(q[: -len(s)]) * mul * 1000
    return int(q) * 1000


def load_cluster(path: str) -> tuple[list[dict], list[dict]]:
    """Nodes (name, zone, allocatable, requested) and pending pods' requests."""
    with open(path) as f:
        items = json.load(f)["items"]
    nodes: list[dict] = []
    by_name: dict[str, dict] = {}
    pending: list[dict] = []
    bound: list[tuple[str, int, int]] = []
    for it in items:
        if it["kind"] == "Node":
            a = it["status"]["allocatable"]
            n = {"name": it["metadata"]["name"],
                 "zone": REGION_ZONE.get(it["metadata"].get("labels", {}).get("topology.kubernetes.io/region", "")),
                 "cpu": milli(a["cpu"]), "mem": milli(a["memory"]) // 1000, "pods": milli(a["pods"]) // 1000,
                 "req_cpu": 0, "req_mem": 0, "npods": 0}
            nodes.append(n)
            by_name[n["name"]] = n
        elif it["kind"] == "Pod":
            cpu = mem = 0
            for c in it["spec"]["containers"]:
                r = c.get("resources", {}).get("requests", {})
                cpu += milli(r.get("cpu", "0"))
                mem += -(-milli(r.get("memory", "0")) // 1000)
            if it["spec"].get("nodeName"):
                bound.append((it["spec"]["nodeName"], cpu, mem))
            else:
                pending.append({"name": it["metadata"]["name"], "cpu": cpu, "mem": mem})
    for node_name, cpu, mem in bound:
        n = by_name.get(node_name)
        if n is not None:
            n["req_cpu"] += cpu
            n["req_mem"] += mem
            n["npods"] += 1
    return nodes, pending


def load_intensity(csv_paths: list[str], at: datetime) -> dict[str, float]:
    """Each zone's lifecycle intensity at the hour `at` (the latest point at or before it)."""
    out: dict[str, float] = {}
    for p in csv_paths:
        best = None
        with open(p, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                t = datetime.strptime(row["Datetime (UTC)"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
                if t <= at and (best is None or t > best[0]):
                    best = (t, float(row["Carbon Intensity gCO₂eq/kWh (LCA)"]), row["Zone Id"])
        if best is not None:
            out[best[2]] = best[1]
    return out


def carbon_score(i: float | None) -> float:
    if i is None:
        return 50.0
    if i <= THRESHOLD:
        s = 50.0 + GREEN_BONUS * (THRESHOLD - i) / THRESHOLD
    else:
        s = 50.0 * math.exp(-(DIRTY_PENALTY / 50.0) * (i - THRESHOLD) / THRESHOLD)
    return math.floor(min(100.0, max(0.0, s)) + 0.5)


def qos_score(i: float | None) -> float:
    if i is None:
        return 50.0
    pos = next((k for k, t in enumerate(PROFILE_THRESHOLDS) if i <= t), len(PROFILE_THRESHOLDS) - 1)
    greenness = 100.0 * (1.0 - pos / (len(PROFILE_THRESHOLDS) - 1))
    return 50.0 + BURSTABLE_WEIGHT / 100.0 * (greenness - 50.0)


# ---------------------------------------------------------------- plain Python


def score_plain(nodes: list[dict], pods: list[dict], intensity: dict[str, float]) -> tuple[list[list[int]], list[int]]:
    """Totals (pods x nodes, -1 infeasible) and each pod's chosen node index (-1: none)."""
    totals: list[list[int]] = []
    chosen: list[int] = []
    for pod in pods:
        row: list[int] = []
        best, best_i = -1, -1
        for idx, n in enumerate(nodes):
            if (n["npods"] + 1 > n["pods"] or n["req_cpu"] + pod["cpu"] > n["cpu"]
                    or n["req_mem"] + pod["mem"] > n["mem"]):
                row.append(-1)
                continue
            rc, rm = n["req_cpu"] + pod["cpu"], n["req_mem"] + pod["mem"]
            fit = ((n["cpu"] - rc) * 100 // n["cpu"] + (n["mem"] - rm) * 100 // n["mem"]) // 2
            fc, fm = min(rc / n["cpu"], 1.0), min(rm / n["mem"], 1.0)
            bal = int((1.0 - abs(fc - fm) / 2.0) * 100)
            i = intensity.get(n["zone"]) if n["zone"] else None
            total = int(W_CARBON * carbon_score(i) + W_QOS * qos_score(i) + W_TOPO * 50 + W_FIT * fit
                        + W_TAINT * 100 + W_BAL * bal)
            row.append(total)
            if total > best:
                best, best_i = total, idx
        totals.append(row)
        chosen.append(best_i)
    return totals, chosen


# ---------------------------------------------------------------- NumPy


class NodeArrays:
    """Column arrays of the nodes, built once (as a NumPy user would)."""

    def __init__(self, nodes: list[dict], intensity: dict[str, float]) -> None:
        self.cpu = np.array([n["cpu"] for n in nodes], dtype=np.int64)
        self.mem = np.array([n["mem"] for n in nodes], dtype=np.int64)
        self.req_cpu = np.array([n["req_cpu"] for n in nodes], dtype=np.int64)
        self.req_mem = np.array([n["req_mem"] for n in nodes], dtype=np.int64)
        self.room = np.array([n["pods"] - n["npods"] for n in nodes], dtype=np.int64)
        zi = [intensity.get(n["zone"]) if n["zone"] else None for n in nodes]
        # Carbon and QoS depend on the zone only: per node, once per signal update.
        self.static = np.array([W_CARBON * carbon_score(i) + W_QOS * qos_score(i) + W_TOPO * 50 + W_TAINT * 100
                                for i in zi], dtype=np.int64)


def score_numpy(a: NodeArrays, pod_cpu: np.ndarray, pod_mem: np.ndarray, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Totals (pods x nodes, -1 infeasible) and chosen node per pod, broadcast over chunks of pods."""
    P = pod_cpu.shape[0]
    totals = np.empty((P, a.cpu.shape[0]), dtype=np.int64)
    for s in range(0, P, chunk):
        pc = pod_cpu[s:s + chunk, None]
        pm = pod_mem[s:s + chunk, None]
        rc = a.req_cpu + pc
        rm = a.req_mem + pm
        ok = (rc <= a.cpu) & (rm <= a.mem) & (a.room >= 1)
        fit = ((a.cpu - rc) * 100 // a.cpu + (a.mem - rm) * 100 // a.mem) // 2
        fc = np.minimum(rc / a.cpu, 1.0)
        fm = np.minimum(rm / a.mem, 1.0)
        bal = ((1.0 - np.abs(fc - fm) / 2.0) * 100).astype(np.int64)
        t = a.static + W_FIT * fit + W_BAL * bal
        totals[s:s + chunk] = np.where(ok, t, -1)
    chosen = np.argmax(totals, axis=1)
    chosen[totals[np.arange(P), chosen] < 0] = -1
    return totals, chosen


def fit_balanced_numpy(a: NodeArrays, pod_cpu: np.ndarray, pod_mem: np.ndarray, chunk: int = 64) -> np.ndarray:
    """NodeResourcesFit (filter + LeastAllocated) + BalancedAllocation only, -1 infeasible."""
    P = pod_cpu.shape[0]
    totals = np.empty((P, a.cpu.shape[0]), dtype=np.int64)
    for s in range(0, P, chunk):
        rc = a.req_cpu + pod_cpu[s:s + chunk, None]
        rm = a.req_mem + pod_mem[s:s + chunk, None]
        ok = (rc <= a.cpu) & (rm <= a.mem) & (a.room >= 1)
        fit = ((a.cpu - rc) * 100 // a.cpu + (a.mem - rm) * 100 // a.mem) // 2
        bal = ((1.0 - np.abs(np.minimum(rc / a.cpu, 1.0) - np.minimum(rm / a.mem, 1.0)) / 2.0) * 100).astype(np.int64)
        totals[s:s + chunk] = np.where(ok, fit + bal, -1)
    return totals


def fit_balanced_plain(nodes: list[dict], pods: list[dict]) -> list[list[int]]:
    out = []
    for pod in pods:
        row = []
        for n in nodes:
            rc, rm = n["req_cpu"] + pod["cpu"], n["req_mem"] + pod["mem"]
            if n["npods"] + 1 > n["pods"] or rc > n["cpu"] or rm > n["mem"]:
                row.append(-1)
                continue
            fit = ((n["cpu"] - rc) * 100 // n["cpu"] + (n["mem"] - rm) * 100 // n["mem"]) // 2
            bal = int((1.0 - abs(min(rc / n["cpu"], 1.0) - min(rm / n["mem"], 1.0)) / 2.0) * 100)
            row.append(fit + bal)
        out.append(row)
    return out
