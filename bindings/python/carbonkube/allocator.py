"""The seed's ``katalyst_carbon_allocator.py``, for real.

Code written against the seed runs unchanged::

    allocator = CarbonAwareResourceAllocator()
    allocation = allocator.calculate_optimal_allocation(workload_profile)

Behind the same names is the C++ allocator (docs/allocator.md): a base
recommendation (the built-in VPA-grade recommender fed with
``add_usage``, or a Katalyst KVPA / VPA recommendation from a pluggable
source), the seed's carbon adjustment (dirty zones x0.8 CPU / x0.9 memory,
green zones x1.2 / x1.1, never below the lower bound or the SLA floor), and
the online RL optimizer behind its safety shield, which learns from
``learn(allocation, outcome)``.

Sources are plain callables, so a controller plugs in its own clients:

- ``recommendation_source(namespace, name)`` returns a KVPA-shaped dict
  (``{"target": {"cpu": cores, "memory": bytes}, "lowerBound": ...,
  "upperBound": ..., "uncappedTarget": ...}``) or None to use the built-in
  recommender;
- ``carbon_source()`` returns ``{zone: gCO2/kWh}`` (None for a zone without
  usable data), e.g. ``signals_carbon_source(signals, engine)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

from . import _core
from ._inputs import Time, unix_seconds

__all__ = [
    "CarbonBudget",
    "SLARequirements",
    "WorkloadProfile",
    "ResourceAllocation",
    "CarbonAwareResourceAllocator",
    "signals_carbon_source",
]


@dataclass
class CarbonBudget:
    """A CarbonProfile's ``carbonBudget``: above ``threshold`` (gCO2/kWh) a
    zone is dirty, below ``green_threshold`` green; the seed's factors."""

    threshold: float = 300.0
    green_threshold: float = 100.0
    dirty_cpu_scale: float = 0.8
    dirty_memory_scale: float = 0.9
    green_cpu_scale: float = 1.2
    green_memory_scale: float = 1.1

    def _as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "green_threshold": self.green_threshold,
            "dirty_cpu_scale": self.dirty_cpu_scale,
            "dirty_memory_scale": self.dirty_memory_scale,
            "green_cpu_scale": self.green_cpu_scale,
            "green_memory_scale": self.green_memory_scale,
        }


@dataclass
class SLARequirements:
    """``tier``: "critical", "standard" or "best-effort" (critical is never
    sized below the base target); ``resource_guarantee``: the fraction of the
    base target always kept (the QoS profile's guarantee); absolute floors
    in cores and bytes."""

    tier: str = "standard"
    resource_guarantee: float = 0.8
    min_cpu: float = 0.0
    min_memory: float = 0.0

    def _as_dict(self) -> dict:
        return {
            "tier": self.tier,
            "resource_guarantee": self.resource_guarantee,
            "min_cpu": self.min_cpu,
            "min_memory": self.min_memory,
        }


@dataclass
class WorkloadProfile:
    """What the allocator knows about a workload at decision time. The
    usage fields (cores, bytes, fractions) are the last interval's, for the
    RL's features; leave them None when unknown."""

    namespace: str
    name: str
    #: None: the allocator's own budget.
    carbon_budget: Optional[CarbonBudget] = None
    sla_requirements: SLARequirements = field(default_factory=SLARequirements)
    container: str = "main"
    zone: Optional[str] = None
    mean_cpu: Optional[float] = None
    peak_cpu: Optional[float] = None
    mean_memory: Optional[float] = None
    peak_memory: Optional[float] = None
    throttled_fraction: float = 0.0
    oom_kills: float = 0.0
    slo_latency_ratio: float = 0.0


@dataclass(frozen=True)
class ResourceAllocation:
    """The allocation to apply (``cpu`` cores, ``memory`` bytes) and how it
    was reached: the base recommendation (KVPA fields), the carbon step (the
    zone's band and the factors applied), and the RL's decision."""

    cpu: float
    memory: float
    zone: Optional[str]
    intensity: Optional[float]
    base: dict
    carbon: dict
    used_rl: bool
    decision: Optional[dict]
    decision_id: Optional[int]

    @property
    def priority_boost(self) -> bool:
        """The seed's ``priority_boost``: the workload runs in a green zone."""
        return bool(self.carbon["priority_boost"])


def signals_carbon_source(signals: Any, engine: Any, at: Optional[Time] = None) -> Callable[[], dict]:
    """A carbon source over ``Signals``: each engine zone's usable intensity
    at ``at`` (default: the signals' newest point), None where the data is
    stale, missing or implausible."""

    def source() -> dict:
        t = unix_seconds(at) or signals.newest_time
        out = {}
        for z in engine.zones:
            r = signals.evaluate(engine, z, t)
            out[z] = r["g_per_kwh"] if r["usable"] else None
        return out

    return source


class CarbonAwareResourceAllocator:
    """Sizes workloads for performance and carbon (the seed's class).

    ``carbon_budget``: the default budget (a workload's own
    ``carbon_budget`` overrides it per call). ``use_rl``: False stops after
    the carbon adjustment (the seed's fixed rule). ``seed`` makes the RL's
    exploration reproducible. One controller loop per allocator: calls from
    several threads are serialised."""

    def __init__(
        self,
        recommendation_source: Optional[Callable[[str, str], Optional[Mapping[str, Any]]]] = None,
        carbon_source: Optional[Callable[[], Mapping[str, Optional[float]]]] = None,
        *,
        carbon_budget: Optional[CarbonBudget] = None,
        use_rl: bool = True,
        seed: int = 1,
    ) -> None:
        self.recommendation_source = recommendation_source
        self.carbon_source = carbon_source
        self.carbon_budget = carbon_budget or CarbonBudget()
        self._core = _core.Allocator(self.carbon_budget._as_dict(), bool(use_rl), int(seed))

    # -- feeding it ---------------------------------------------------------

    def add_usage(
        self,
        namespace: str,
        name: str,
        at: Time,
        cpu: float,
        memory: float,
        *,
        cpu_request: float = 0.0,
        container: str = "main",
    ) -> None:
        """One usage sample (cores, bytes) for the built-in recommender; CPU
        samples are weighted by ``cpu_request`` as VPA weighs them."""
        self._core.add_usage(namespace, name, container, unix_seconds(at), float(cpu), float(cpu_request), float(memory))

    def record_oom(self, namespace: str, name: str, at: Time, memory_request: float, *, container: str = "main") -> bool:
        """An OOM kill (VPA's bump: max(+100 MiB, x1.2) of the request)."""
        return self._core.record_oom(namespace, name, container, unix_seconds(at), float(memory_request))

    # -- the seed's API -------------------------------------------------------

    def calculate_optimal_allocation(
        self, workload_profile: WorkloadProfile, *, at: Optional[Time] = None
    ) -> ResourceAllocation:
        """Base recommendation -> carbon adjustment for the workload's zone
        -> RL optimizer behind its safety shield."""
        w = workload_profile
        recommendation = None
        if self.recommendation_source is not None:
            recommendation = self.recommendation_source(w.namespace, w.name)
        carbon = dict(self.carbon_source()) if self.carbon_source is not None else {}
        zone = w.zone
        if zone is None and len(carbon) == 1:
            zone = next(iter(carbon))
        intensity = carbon.get(zone) if zone is not None else None
        if zone is not None and carbon and zone not in carbon:
            from .errors import NotFoundError

            raise NotFoundError(f"workload {w.namespace}/{w.name}: the carbon source has no zone {zone!r}")
        args = {
            "namespace": w.namespace,
            "name": w.name,
            "container": w.container,
            "sla": w.sla_requirements._as_dict(),
            "carbon_budget": None if w.carbon_budget is None else w.carbon_budget._as_dict(),
            "intensity": intensity,
            "unix_seconds": unix_seconds(at),
            "recommendation": None if recommendation is None else dict(recommendation),
            "mean_cpu": w.mean_cpu,
            "peak_cpu": w.peak_cpu,
            "mean_memory": w.mean_memory,
            "peak_memory": w.peak_memory,
            "throttled_fraction": w.throttled_fraction,
            "oom_kills": w.oom_kills,
            "slo_latency_ratio": w.slo_latency_ratio,
        }
        d = self._core.allocate(args)
        return ResourceAllocation(
            cpu=d["requests"]["cpu"],
            memory=d["requests"]["memory"],
            zone=zone,
            intensity=intensity,
            base=d["base"],
            carbon=d["carbon"],
            used_rl=d["used_rl"],
            decision=d.get("decision"),
            decision_id=d["decision_id"],
        )

    def _apply_carbon_adjustments(
        self, base_allocation: Mapping[str, Any], carbon_data: Mapping[str, Optional[float]], carbon_budget: CarbonBudget
    ) -> dict:
        """The seed's rule for every zone: ``{zone: {"resources", "band",
        "cpu_scale", "memory_scale", "priority_boost", ...}}``.
        ``base_allocation`` is KVPA-shaped (``target``, optional
        ``lowerBound`` / ``upperBound``)."""
        return _core.apply_carbon_adjustments(
            dict(base_allocation), dict(carbon_data), SLARequirements()._as_dict(), carbon_budget._as_dict()
        )

    # -- learning -------------------------------------------------------------

    def learn(self, allocation: ResourceAllocation, outcome: Mapping[str, float]) -> tuple[float, float]:
        """What followed an allocation the RL made: ``cpu_slack_fraction``,
        ``memory_slack_fraction``, ``throttled_fraction``, ``oom_kills``,
        ``slo_violation_fraction``. Returns the (cpu, memory) rewards."""
        if allocation.decision_id is None:
            raise ValueError("this allocation did not use the RL optimizer; there is nothing to learn")
        return self._core.learn(allocation.decision_id, dict(outcome))

    def save(self) -> str:
        """The RL state in its versioned text format."""
        return self._core.save()

    def restore(self, text: str, source: str = "saved state") -> None:
        self._core.restore(text, source)
