"""The migration advisor: should a running pod move to a greener zone?

For each candidate, the emissions over a horizon of staying against moving
(restart and redone work paid in the destination), recommended when the net
saving clears the pod's migration policy, its cooldown has passed and the
hourly limit has room (CarbonProfile ``spec.migrationPolicy``). The advisor
never moves a pod: call ``record`` when you do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

import numpy as np

from . import _core
from ._inputs import Document, Time, document_text, unix_seconds

__all__ = ["Candidate", "MigrationAdvisor", "Recommendation"]

_POLICIES = {"aggressive": 0, "conservative": 1, "disabled": 2}


@dataclass(frozen=True)
class Candidate:
    pod: str  #: "namespace/name"
    zone: str  #: its grid zone now
    power_kw: float  #: facility power, the same after a move
    remaining_seconds: int
    restart_seconds: int = 60
    lost_work_seconds: int = 0
    policy: str = "conservative"  #: of the pod's QoS profile


@dataclass(frozen=True)
class Recommendation:
    pod: str
    from_zone: str
    to_zone: Optional[str]
    recommended: bool
    reason: str  #: "recommended", "cooldown", "saving-too-small", ...
    horizon_seconds: int
    stay_g: float
    move_g: float
    move_cost_g: float
    net_saving_g: float
    saving_fraction: float
    detail: str


class MigrationAdvisor:
    """From a CarbonProfile (``profile``) or explicit options."""

    def __init__(
        self,
        profile: Optional[Document] = None,
        *,
        enabled: bool = True,
        max_per_hour: int = 10,
        cooldown_seconds: float = 300.0,
        horizon_seconds: int = 6 * 3600,
        aggressive_min_fraction: float = 0.05,
        conservative_min_fraction: float = 0.25,
        min_saving_g: float = 1.0,
    ) -> None:
        if profile is not None:
            text, source = document_text(profile, "profile")
            self._core = _core.MigrationAdvisor(text, source)
        else:
            self._core = _core.MigrationAdvisor(
                bool(enabled),
                int(max_per_hour),
                float(cooldown_seconds),
                int(horizon_seconds),
                float(aggressive_min_fraction),
                float(conservative_min_fraction),
                float(min_saving_g),
            )

    def advise(
        self,
        now: Time,
        candidates: Iterable[Candidate],
        outlooks: Mapping[str, Any],
        *,
        start: Time | None = None,
        step_seconds: int = 3600,
    ) -> list[Recommendation]:
        """One round at ``now``. ``outlooks`` maps each zone to its expected
        intensity (g/kWh per ``step_seconds`` cell from ``start``, default
        ``now``)."""
        t = unix_seconds(now, "now")
        s = t if start is None else unix_seconds(start, "start")
        cs = []
        for c in candidates:
            if c.policy not in _POLICIES:
                raise ValueError(f"candidate {c.pod}: policy {c.policy!r} is not one of {sorted(_POLICIES)}")
            cs.append(
                (
                    c.pod,
                    c.zone,
                    float(c.power_kw),
                    int(c.remaining_seconds),
                    int(c.restart_seconds),
                    int(c.lost_work_seconds),
                    _POLICIES[c.policy],
                )
            )
        zs = [(z, s, int(step_seconds), np.ascontiguousarray(v, dtype=np.float64)) for z, v in outlooks.items()]
        return [Recommendation(**d) for d in self._core.advise(t, cs, zs)]

    def record(self, pod: str, at: Time) -> None:
        """The host moved ``pod`` at ``at``: its cooldown starts."""
        self._core.record(pod, unix_seconds(at))

    def migrations_in_last_hour(self, now: Time) -> int:
        return self._core.count_last_hour(unix_seconds(now))
