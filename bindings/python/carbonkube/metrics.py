"""Prometheus text exposition (format 0.0.4) of the engine's state, under
the seed's metric names: carbon_intensity_gco2_kwh, katalyst_qos_guarantee_met,
daily carbon consumption against budget, migrations recommended, scheduling
decisions by QoS class, and the ledger's energy and emissions."""

from __future__ import annotations

from typing import Any

from . import _core
from ._inputs import Time, unix_seconds

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self._core = _core.Metrics()

    def set_snapshot(self, snapshot: Any) -> None:
        """Zone intensities of a snapshot published with signals and a zone map."""
        self._core.set_snapshot(snapshot._core)

    def set_ledger(self, ledger: Any, now: Time) -> None:
        """Budgets at ``now`` and the ledger's totals (copied)."""
        self._core.set_ledger(ledger._core, unix_seconds(now, "now"))

    def count_migrations(self, advisor: Any) -> None:
        """Adds the recommended moves of the advisor's last round."""
        self._core.count_migrations(advisor._core)

    def count_decision(self, snapshot: Any, pod: Any, scheduled: bool) -> None:
        self._core.count_decision(snapshot._core, pod._core, bool(scheduled))

    def set_qos_guarantee(self, namespace: str, pod: str, qos_class: str, met: bool) -> None:
        self._core.set_qos_guarantee(namespace, pod, qos_class, bool(met))

    def render(self) -> str:
        return self._core.render()
