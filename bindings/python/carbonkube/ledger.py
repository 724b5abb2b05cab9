"""The carbon ledger, daily budgets, the budget hook and the SCI.

A ``Ledger`` integrates each pod's facility power × its zone's grid intensity
over time, books it per pod, namespace, tenant and zone for each UTC day,
adds embodied emissions, and reports budgets from ``CarbonProfile``
(``spec.carbonBudget.dailyLimit``, kg per namespace per UTC day). Publishing
a snapshot with the ledger (``Cluster.snapshot(..., ledger=...)``) lets the
carbon plugins apply the budget hook; ``budget_advice`` says what it does
to one pod. Energy in kWh, emissions in gCO2e. docs/carbon-accounting.md
has the model and its sources.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from . import _core
from ._inputs import Document, Time, document_text, unix_seconds

__all__ = [
    "BudgetAction",
    "BudgetAdvice",
    "BudgetStatus",
    "CarbonTotals",
    "Ledger",
    "Scope",
    "budget_advice",
    "sci",
]


class Scope(enum.IntEnum):
    POD = 0  #: "namespace/name"
    NAMESPACE = 1
    TENANT = 2
    ZONE = 3


class BudgetAction(enum.IntEnum):
    NONE = 0  #: within budget
    PREFER_GREENER = 1  #: near or over: zones above the ceiling score lowest
    DEFER = 2  #: over budget and deferrable: waits for the next UTC midnight


@dataclass(frozen=True)
class CarbonTotals:
    energy_kwh: float
    operational_g: float  #: ∫ power × intensity
    embodied_g: float
    total_g: float  #: operational + embodied
    seconds: int  #: pod-seconds recorded


@dataclass(frozen=True)
class BudgetStatus:
    namespace: str
    day_start: int  #: the UTC midnight, unix seconds
    limit_kg: float  #: inf without a limit
    used_kg: float
    fraction: float  #: used / limit (0 without a limit)
    exceeded: bool
    exceeded_at: Optional[int]  #: when it crossed the limit that day


@dataclass(frozen=True)
class BudgetAdvice:
    action: BudgetAction
    max_intensity_g_per_kwh: float  #: the preference's ceiling (inf with NONE)
    defer_until: int  #: DEFER: the next UTC midnight, else 0
    reason: str


_POWER_FIELDS = (
    "idle_watts_per_vcpu",
    "max_watts_per_vcpu",
    "memory_watts_per_gb",
    "gpu_idle_watts",
    "gpu_max_watts",
    "pue",
    "embodied_kg",
    "lifetime_years",
)


class Ledger:
    """A carbon ledger. ``power_model`` overrides the default node power
    coefficients (Cloud Carbon Footprint's AWS averages): any of
    idle_watts_per_vcpu, max_watts_per_vcpu, memory_watts_per_gb,
    gpu_idle_watts, gpu_max_watts, pue, embodied_kg, lifetime_years. Not
    thread-safe beyond its own lock: one feeder owns a ledger."""

    def __init__(
        self,
        power_model: Optional[dict[str, float]] = None,
        *,
        idle: str = "separate",
        book_idle: bool = True,
        gpu_utilisation: float = 1.0,
        warn_fraction: float = 0.8,
    ) -> None:
        idles = {"separate": 0, "proportional": 1}
        if idle not in idles:
            raise ValueError(f"idle: {idle!r} is not one of {sorted(idles)}")
        base = dict(power_model or {})
        for key in base:
            if key not in _POWER_FIELDS:
                raise ValueError(f"power_model: unknown field {key!r} (known: {', '.join(_POWER_FIELDS)})")
        self._core = _core.Ledger(
            {k: float(v) for k, v in base.items()},
            idles[idle],
            bool(book_idle),
            float(gpu_utilisation),
            float(warn_fraction),
        )

    def set_daily_limit(self, namespace: str, kg: float) -> None:
        self._core.set_daily_limit(namespace, float(kg))

    def set_profile(self, profile: Document) -> None:
        """A CarbonProfile: its namespace's daily limit and the budget hook's thresholds."""
        text, source = document_text(profile, "profile")
        self._core.set_profile(text, source)

    def record(
        self,
        *,
        pod: str,
        namespace: str,
        zone: str,
        start: Time,
        end: Time,
        watts: float,
        curve: Any = None,
        curve_start: Time | None = None,
        step_seconds: int = 3600,
        kind: Optional[int] = None,
        signals: Any = None,
        tenant: str = "",
        embodied_g_per_hour: float = 0.0,
    ) -> None:
        """Books ``watts`` over [start, end) against either ``curve`` (g/kWh
        per ``step_seconds`` cell from ``curve_start``, of ``kind``) or the
        zone's history in ``signals`` (a carbonkube.Signals)."""
        args = (
            pod,
            namespace,
            tenant,
            zone,
            unix_seconds(start, "start"),
            unix_seconds(end, "end"),
            float(watts),
            float(embodied_g_per_hour),
        )
        if (curve is None) == (signals is None):
            raise ValueError("record: give exactly one of curve and signals")
        if signals is not None:
            self._core.record_signals(*args, signals._core)
            return
        if curve_start is None:
            raise ValueError("record: curve_start is required with a curve")
        self._core.record(
            *args,
            unix_seconds(curve_start, "curve_start"),
            int(step_seconds),
            np.ascontiguousarray(curve, dtype=np.float64),
            -1 if kind is None else int(kind),
        )

    def account(self, engine: Any, signals: Any, objects: Document, start: Time, end: Time) -> dict:
        """Books [start, end) for every bound pod of ``objects`` (Nodes and
        Pods as kubectl prints them): each node's power model, the pods'
        shares by request, the node's zone by ``engine``'s zone map, the
        zone's history in ``signals``. Returns pods_booked, pods_skipped,
        node_watts and the skipped pods' reasons."""
        text, source = document_text(objects, "objects")
        r = self._core.account(
            engine._core, signals._core, text, source, unix_seconds(start, "start"), unix_seconds(end, "end")
        )
        r["skipped"] = [line for line in r["skipped"].split("\n") if line]
        return r

    def day(self, scope: Scope, name: str, at: Time) -> CarbonTotals:
        """Totals of the UTC day containing ``at``."""
        return CarbonTotals(**self._core.day(int(scope), name, unix_seconds(at)))

    def month(self, scope: Scope, name: str, year: int, month: int) -> CarbonTotals:
        return CarbonTotals(**self._core.month(int(scope), name, int(year), int(month)))

    def total(self, scope: Scope, name: str) -> CarbonTotals:
        return CarbonTotals(**self._core.total(int(scope), name))

    def budget(self, namespace: str, at: Time) -> BudgetStatus:
        """The namespace's budget on the UTC day containing ``at``."""
        return BudgetStatus(**self._core.budget(namespace, unix_seconds(at)))


def sci(totals: CarbonTotals, functional_units: float) -> float:
    """The Green Software Foundation's Software Carbon Intensity, (E·I + M) / R."""
    return _core.sci(
        {
            "energy_kwh": totals.energy_kwh,
            "operational_g": totals.operational_g,
            "embodied_g": totals.embodied_g,
            "total_g": totals.total_g,
            "seconds": totals.seconds,
        },
        float(functional_units),
    )


def budget_advice(snapshot: Any, pod: Any) -> BudgetAdvice:
    """What the budget hook does to ``pod`` (a Snapshot.pod()) in a snapshot
    published with a ledger."""
    d = _core.budget_advice(snapshot._core, pod._core)
    return BudgetAdvice(BudgetAction(d["action"]), d["max_intensity_g_per_kwh"], d["defer_until"], d["reason"])
