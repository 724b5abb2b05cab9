"""The seed's allocator API over the C++ allocator: code written against the
seed runs, the carbon rule's bands and floors, the RL's bounds, learning,
save/restore, and errors."""

from __future__ import annotations

import math

import pytest

import carbonkube as ck
from carbonkube.allocator import (
    CarbonAwareResourceAllocator,
    CarbonBudget,
    SLARequirements,
    WorkloadProfile,
    signals_carbon_source,
)

GIB = float(1 << 30)
T0 = 1672531200  # 2023-01-01T00:00:00Z
KVPA = {
    "target": {"cpu": 1.0, "memory": 2 * GIB},
    "lowerBound": {"cpu": 0.5, "memory": 1 * GIB},
    "upperBound": {"cpu": 2.0, "memory": 4 * GIB},
    "uncappedTarget": {"cpu": 1.0, "memory": 2 * GIB},
}


def test_the_seed_code_runs_with_the_seed_rule():
    intensity = {"value": 450.0}
    alloc = CarbonAwareResourceAllocator(
        recommendation_source=lambda ns, name: KVPA,
        carbon_source=lambda: {"ES": intensity["value"]},
        use_rl=False,
    )
    profile = WorkloadProfile(namespace="shop", name="web", carbon_budget=CarbonBudget(threshold=300, green_threshold=100))
    dirty = alloc.calculate_optimal_allocation(profile)
    assert dirty.zone == "ES" and dirty.carbon["band"] == "dirty"
    assert dirty.cpu == pytest.approx(0.8) and dirty.memory == pytest.approx(0.9 * 2 * GIB)
    assert not dirty.priority_boost and not dirty.used_rl
    intensity["value"] = 50.0
    green = alloc.calculate_optimal_allocation(profile)
    assert green.carbon["band"] == "green" and green.priority_boost
    assert green.cpu == pytest.approx(1.2) and green.memory == pytest.approx(1.1 * 2 * GIB)
    intensity["value"] = 200.0
    neutral = alloc.calculate_optimal_allocation(profile)
    assert (neutral.cpu, neutral.memory) == (1.0, 2 * GIB)
    # The workload's own budget decides the band.
    strict = WorkloadProfile(namespace="shop", name="web", carbon_budget=CarbonBudget(threshold=150, green_threshold=50))
    assert alloc.calculate_optimal_allocation(strict).carbon["band"] == "dirty"


def test_floors_hold_in_dirty_zones():
    alloc = CarbonAwareResourceAllocator(lambda ns, n: KVPA, lambda: {"PL": 700.0}, use_rl=False)
    critical = WorkloadProfile("shop", "db", sla_requirements=SLARequirements(tier="critical", resource_guarantee=1.0))
    a = alloc.calculate_optimal_allocation(critical)
    assert a.cpu == pytest.approx(1.0) and a.memory == pytest.approx(2 * GIB)  # never below the target
    assert a.carbon["cpu_floored"] and a.carbon["memory_floored"]


def test_apply_carbon_adjustments_per_zone():
    alloc = CarbonAwareResourceAllocator(use_rl=False)
    out = alloc._apply_carbon_adjustments(KVPA, {"NO": 25.0, "ES": 200.0, "PL": 700.0, "XX": None}, CarbonBudget())
    assert [out[z]["band"] for z in ("NO", "ES", "PL", "XX")] == ["green", "neutral", "dirty", "unknown"]
    assert out["PL"]["resources"]["cpu"] == pytest.approx(0.8)
    with pytest.raises(ck.InvalidInputError, match="threshold"):
        alloc._apply_carbon_adjustments(KVPA, {"NO": 25.0}, CarbonBudget(threshold=50, green_threshold=100))


def test_builtin_recommender_and_rl_learn_and_restore():
    alloc = CarbonAwareResourceAllocator(seed=7)
    for i in range(2 * 288):
        alloc.add_usage("prod", "web", T0 + 300 * i, 0.5 + 0.3 * math.sin(i / 20), 1 * GIB, cpu_request=1.0)
    profile = WorkloadProfile("prod", "web", mean_cpu=0.5, peak_cpu=0.8)
    a = alloc.calculate_optimal_allocation(profile, at=T0 + 2 * 86400)
    assert a.base["hasData"] and a.used_rl and a.decision_id is not None
    lo, hi = a.base["lowerBound"], a.base["upperBound"]
    assert lo["cpu"] * (1 - 1e-9) <= a.cpu <= hi["cpu"] * (1 + 1e-9)
    assert a.memory >= 1 * GIB  # never under the observed peak (the OOM floor)
    assert 0 < a.decision["cpu_propensity"] <= 1
    rewards = alloc.learn(a, {"cpu_slack_fraction": 0.3, "memory_slack_fraction": 0.2})
    assert all(math.isfinite(r) for r in rewards)
    with pytest.raises(ck.NotFoundError):
        alloc.learn(a, {})  # learned once
    saved = alloc.save()
    other = CarbonAwareResourceAllocator(seed=7)
    other.restore(saved)
    assert other.save() == saved
    with pytest.raises(ck.InvalidInputError):
        other.restore("not a saved state")


def test_deterministic_under_a_seed():
    def run(seed: int) -> list[float]:
        alloc = CarbonAwareResourceAllocator(carbon_source=lambda: {"ES": 350.0}, seed=seed)
        for i in range(288):
            alloc.add_usage("p", "w", T0 + 300 * i, 0.4 + 0.1 * (i % 7), 0.5 * GIB, cpu_request=1.0)
        out = []
        for k in range(20):
            a = alloc.calculate_optimal_allocation(WorkloadProfile("p", "w", mean_cpu=0.5), at=T0 + 86400 + k * 600)
            alloc.learn(a, {"cpu_slack_fraction": 0.2})
            out.append(a.cpu)
        return out

    assert run(3) == run(3)


def test_bad_inputs():
    alloc = CarbonAwareResourceAllocator()
    with pytest.raises(ck.InvalidInputError, match="p/w"):
        alloc.add_usage("p", "w", T0, float("nan"), GIB)
    with pytest.raises(ck.InvalidInputError):
        alloc.calculate_optimal_allocation(WorkloadProfile("p", ""))
    with pytest.raises(ck.InvalidInputError, match="tier"):
        alloc.calculate_optimal_allocation(WorkloadProfile("p", "w", sla_requirements=SLARequirements(tier="gold")))
    with pytest.raises(ValueError, match="unknown resource"):
        CarbonAwareResourceAllocator(lambda ns, n: {"target": {"gpu": 1}}).calculate_optimal_allocation(
            WorkloadProfile("p", "w")
        )
    no_zone = CarbonAwareResourceAllocator(carbon_source=lambda: {"ES": 1.0, "NO": 2.0})
    with pytest.raises(ck.NotFoundError, match="MARS"):
        no_zone.calculate_optimal_allocation(WorkloadProfile("p", "w", zone="MARS"))


def test_signals_source(example_engine, example_signals):
    source = signals_carbon_source(example_signals, example_engine, at="2023-07-15T18:00:00Z")
    data = source()
    assert set(data) == {"NO", "ES", "US-CAL-CISO"}
    assert data["NO"] == pytest.approx(25.51, abs=0.01)
    alloc = CarbonAwareResourceAllocator(lambda ns, n: KVPA, source, use_rl=False)
    a = alloc.calculate_optimal_allocation(WorkloadProfile("p", "w", zone="NO"))
    assert a.carbon["band"] == "green"


def test_the_allocators_budget_applies_when_the_workload_has_none():
    alloc = CarbonAwareResourceAllocator(
        lambda ns, n: KVPA, lambda: {"ES": 250.0}, carbon_budget=CarbonBudget(threshold=200, green_threshold=50), use_rl=False
    )
    assert alloc.calculate_optimal_allocation(WorkloadProfile("p", "w")).carbon["band"] == "dirty"
    # The workload's own budget still wins.
    own = WorkloadProfile("p", "w", carbon_budget=CarbonBudget(threshold=300, green_threshold=100))
    assert alloc.calculate_optimal_allocation(own).carbon["band"] == "neutral"
