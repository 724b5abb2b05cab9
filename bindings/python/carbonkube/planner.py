"""The temporal planner: when should deferrable work run?

``plan()`` places a job with a deadline on an intensity curve (a forecast
from ``Signals.forecast`` for real decisions, recorded values for the
perfect-knowledge bound) at the start, or for interruptible work in the
hours, with the least emissions. In Kubernetes the start is when the pod's
``carbon-kube.io/carbon-window`` scheduling gate lifts
(docs/carbon-accounting.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._inputs import Time, unix_seconds

__all__ = ["Plan", "plan"]


@dataclass(frozen=True)
class Plan:
    start: int  #: unix seconds: when the job starts (the gate lifts)
    expected_g: float  #: gCO2 of the plan on the curve
    immediate_g: float  #: gCO2 had it started at arrival
    immediate: bool  #: no window to choose from
    runs: np.ndarray  #: int64 (n, 2): [start, end) of each run

    @property
    def saving_g(self) -> float:
        return self.immediate_g - self.expected_g


def plan(
    curve: Any,
    *,
    start: Time,
    arrival: Time,
    duration_seconds: int,
    deadline: Time,
    step_seconds: int = 3600,
    interruptible: bool = False,
    power_kw: float = 1.0,
) -> Plan:
    """Plans a job on ``curve`` (g/kWh per ``step_seconds`` cell from
    ``start``). Raises InvalidInputError for a malformed job or curve, or a
    window [arrival, deadline) outside the curve."""
    s, expected, immediate_g, immediate, runs = _core.plan_job(
        unix_seconds(start, "start"),
        int(step_seconds),
        np.ascontiguousarray(curve, dtype=np.float64),
        unix_seconds(arrival, "arrival"),
        int(duration_seconds),
        unix_seconds(deadline, "deadline"),
        bool(interruptible),
        float(power_kw),
    )
    return Plan(s, expected, immediate_g, immediate, runs)
