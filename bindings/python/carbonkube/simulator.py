"""The trace-driven simulator from Python (docs/results.md).

``simulate`` replays batch jobs (a workload CSV with ``arrival_time``,
``length`` and ``cpus`` columns such as ``data/workloads/azure-100k.csv``, or
arrays) on a cluster of nodes per grid zone, with the zones' carbon
intensity from ``Signals``, under each policy, through the engine's own
planner, forecasts and energy model: the same code as ``carbonkube
simulate``. Results are one dict per policy, with the saving against the
baseline and the fraction of the oracle's saving where both ran.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core

__all__ = ["POLICIES", "simulate", "load_trace"]

#: Every policy, in the CLI's order.
POLICIES = (
    "baseline",
    "carbon-placement",
    "carbon-placement-oracle",
    "temporal",
    "temporal-oracle",
    "temporal+placement",
    "temporal+placement-oracle",
)


def load_trace(path: Union[str, os.PathLike]) -> dict[str, np.ndarray]:
    """A workload CSV as arrays: ``arrival_hours``, ``length_hours``, ``cpus``."""
    a, l, c = _core.load_trace(os.fspath(path))
    return {"arrival_hours": a, "length_hours": l, "cpus": c}


def simulate(
    signals: Any,
    trace: Union[str, os.PathLike, Mapping[str, Any]],
    zones: Union[Sequence[str], Mapping[str, int], None] = None,
    *,
    nodes: int = 4,
    policies: Sequence[str] = POLICIES,
    slack_hours: float = 24.0,
    seed: int = 1,
    model: str = "ridge",
) -> list[dict]:
    """Runs each policy; ``zones`` are grid zones with data in ``signals``
    (a list, each with ``nodes`` 64-vCPU nodes, or a mapping zone -> nodes;
    default: every zone the signals hold). Raises InvalidInputError for a
    zone without data, a malformed trace or a cluster too small for a job."""
    jobs = load_trace(trace) if isinstance(trace, (str, os.PathLike)) else trace
    if zones is None:
        raise ValueError("simulate: name the zones (the signals' zone ids)")
    cluster = list(zones.items()) if isinstance(zones, Mapping) else [(z, int(nodes)) for z in zones]
    results = _core.simulate(
        signals._core,
        [(str(z), int(n)) for z, n in cluster],
        np.ascontiguousarray(jobs["arrival_hours"], dtype=np.float64),
        np.ascontiguousarray(jobs["length_hours"], dtype=np.float64),
        np.ascontiguousarray(jobs["cpus"], dtype=np.float64),
        list(policies),
        float(slack_hours),
        int(seed),
        model,
    )
    by_name = {r["policy"]: r for r in results}
    base: Optional[dict] = by_name.get("baseline")
    for r in results:
        if base is not None and base["kg"] > 0:
            r["saved_percent"] = 100.0 * (base["kg"] - r["kg"]) / base["kg"]
            oracle = by_name.get(r["policy"] + "-oracle")
            if oracle is not None and base["kg"] - oracle["kg"] > 0:
                r["oracle_fraction"] = (base["kg"] - r["kg"]) / (base["kg"] - oracle["kg"])
    return results
