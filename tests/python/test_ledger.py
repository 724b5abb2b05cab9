"""The ledger, the budget hook, the migration advisor and the metrics from
Python (over the C ABI): the C++ tests' numbers on the same inputs, a
plain-Python reference of the ledger's integral on the bundled real data,
and the budget hook on the example cluster."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import carbonkube as ck

from conftest import REPO

K2023 = 1672531200  # 2023-01-01T00:00:00Z
H = 3600
SHOP_PROFILE = (
    "apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\n"
    "metadata: {name: shop, namespace: shop}\n"
    "spec:\n  carbonBudget: {dailyLimit: 0.05, threshold: 300, greenThreshold: 100}\n"
    "  migrationPolicy: {enabled: true, strategy: carbon-aware, cooldownPeriod: 10m, "
    "maxMigrationsPerHour: 1}\n"
)


def es_lifecycle_hourly() -> list[float]:
    """The bundled Spain 2023 life-cycle intensities, one per hour from K2023."""
    with open(REPO / "data/carbon/electricitymaps/ES_2023_hourly.csv", newline="") as f:
        rows = list(csv.reader(f))
    return [float(r[5]) for r in rows[1:]]


def reference_grams(values: list[float], start: int, end: int, watts: float) -> float:
    """∫ power × intensity over [start, end) on an hourly step curve from K2023."""
    total = 0.0
    t = start
    while t < end:
        cell = (t - K2023) // H
        cell_end = K2023 + (cell + 1) * H
        step = min(end, cell_end) - t
        total += watts / 1000.0 * step / H * values[cell]
        t += step
    return total


def test_midnight_split_matches_the_cpp_test() -> None:
    # tests/test_ledger.cpp "ledger: power × intensity, split at UTC midnight".
    cells = np.full(48, 200.0)
    cells[23] = 400
    cells[24] = 100
    ledger = ck.Ledger()
    ledger.record(
        pod="ns/p", namespace="ns", tenant="team-a", zone="ES", start=K2023 + 23 * H, end=K2023 + 25 * H,
        watts=1000, embodied_g_per_hour=10, curve=cells, curve_start=K2023,
    )
    d1 = ledger.day(ck.Scope.POD, "ns/p", K2023 + 5 * H)
    d2 = ledger.day(ck.Scope.POD, "ns/p", K2023 + 30 * H)
    assert d1.energy_kwh == pytest.approx(1)
    assert d1.operational_g == pytest.approx(400)
    assert d1.embodied_g == pytest.approx(10)
    assert d1.seconds == H
    assert d2.operational_g == pytest.approx(100)
    assert ledger.day(ck.Scope.NAMESPACE, "ns", K2023).total_g == pytest.approx(410)
    assert ledger.day(ck.Scope.TENANT, "team-a", K2023 + 86400).total_g == pytest.approx(110)
    assert ledger.month(ck.Scope.ZONE, "ES", 2023, 1).total_g == pytest.approx(520)
    assert ledger.month(ck.Scope.ZONE, "ES", 2023, 2).total_g == 0
    total = ledger.total(ck.Scope.NAMESPACE, "ns")
    assert ck.sci(total, 4) == pytest.approx(520 / 4)


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=364 * 86400),
    length=st.integers(min_value=1, max_value=3 * 86400),
    watts=st.floats(min_value=0, max_value=5000, allow_nan=False),
)
def test_integral_matches_a_plain_reference_on_real_data(start: int, length: int, watts: float) -> None:
    values = es_lifecycle_hourly()
    s = K2023 + start
    e = min(s + length, K2023 + len(values) * H)
    ledger = ck.Ledger()
    ledger.record(pod="ns/p", namespace="ns", zone="ES", start=s, end=e, watts=watts,
                  curve=values, curve_start=K2023, kind=int(ck.Kind.AVERAGE_LIFECYCLE))
    got = ledger.total(ck.Scope.POD, "ns/p")
    want = reference_grams(values, s, e, watts)
    assert got.operational_g == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert got.energy_kwh == pytest.approx(watts / 1000.0 * (e - s) / H, rel=1e-9, abs=1e-12)
    assert got.seconds == e - s
    # The same record against the loaded signals gives the same grams.
    other = ck.Ledger()
    other.record(pod="ns/p", namespace="ns", zone="ES", start=s, end=e, watts=watts, signals=_signals())
    assert other.total(ck.Scope.POD, "ns/p").operational_g == pytest.approx(want, rel=1e-9, abs=1e-9)


_SIGNALS: list[ck.Signals] = []


def _signals() -> ck.Signals:
    if not _SIGNALS:
        _SIGNALS.append(ck.Signals.from_files(REPO / "data/carbon/electricitymaps/ES_2023_hourly.csv"))
    return _SIGNALS[0]


def test_budgets_and_bad_inputs() -> None:
    ledger = ck.Ledger()
    ledger.set_daily_limit("ns", 0.1)
    ledger.record(pod="ns/p", namespace="ns", zone="ES", start=K2023, end=K2023 + H, watts=1000,
                  curve=[100.0, 100.0], curve_start=K2023)
    b = ledger.budget("ns", K2023 + 2 * H)
    assert b.limit_kg == 0.1 and b.used_kg == pytest.approx(0.1) and not b.exceeded
    ledger.record(pod="ns/p", namespace="ns", zone="ES", start=K2023 + H, end=K2023 + 2 * H, watts=1000,
                  curve=[100.0, 100.0], curve_start=K2023)
    b = ledger.budget("ns", K2023 + 2 * H)
    assert b.exceeded and b.exceeded_at == K2023 + H
    assert math.isinf(ledger.budget("other", K2023).limit_kg)
    with pytest.raises(ck.InvalidInputError, match="ns/p"):
        ledger.record(pod="ns/p", namespace="ns", zone="ES", start=K2023, end=K2023 + H, watts=-1,
                      curve=[100.0], curve_start=K2023)
    with pytest.raises(ck.InvalidInputError):
        ledger.record(pod="ns/p", namespace="ns", zone="ES", start=K2023, end=K2023 + 9 * H, watts=1,
                      curve=[100.0], curve_start=K2023)
    with pytest.raises(ck.InvalidInputError, match="functional units"):
        ck.sci(ledger.total(ck.Scope.POD, "ns/p"), 0)
    with pytest.raises(ck.InvalidInputError, match="pue"):
        ck.Ledger({"pue": 0.5})
    with pytest.raises(ValueError, match="unknown field"):
        ck.Ledger({"watts": 1})
    with pytest.raises(ck.InvalidArgumentError, match="month 13"):
        ledger.month(ck.Scope.POD, "ns/p", 2023, 13)
    with pytest.raises(ck.NotFoundError, match="XX"):
        ledger.record(pod="ns/p", namespace="ns", zone="XX", start=K2023, end=K2023 + H, watts=1,
                      signals=_signals())
    with pytest.raises(ValueError, match="exactly one"):
        ledger.record(pod="ns/p", namespace="ns", zone="ES", start=K2023, end=K2023 + H, watts=1)


def test_account_books_every_watt(repo, example_engine, example_signals) -> None:
    ledger = ck.Ledger()
    nodes = (repo / "examples/cluster/nodes.json").read_text()
    pods = (repo / "examples/cluster/pods.yaml").read_text()
    r = ledger.account(example_engine, example_signals, pods + "\n---\n" + nodes,
                       "2023-07-15T17:00:00Z", "2023-07-15T18:00:00Z")
    assert r["pods_booked"] == 3 and r["pods_skipped"] == 0 and r["skipped"] == []
    kwh = sum(ledger.total(ck.Scope.ZONE, z).energy_kwh for z in ("US-CAL-CISO", "ES", "NO"))
    assert kwh == pytest.approx(r["node_watts"] / 1000.0, rel=1e-9)
    assert ledger.total(ck.Scope.NAMESPACE, "shop").seconds == 3 * H


DEFERRABLE = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-7d9f",
        "namespace": "shop",
        "annotations": {"carbon-kube.io/expected-duration": "1h", "carbon-kube.io/max-delay": "48h"},
    },
    "spec": {"containers": [{"name": "web", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}]},
}


def test_budget_hook_defers_and_prefers_greener(example_engine, example_signals, example_cluster) -> None:
    ledger = ck.Ledger()
    ledger.set_profile(SHOP_PROFILE)
    ledger.record(pod="shop/earlier", namespace="shop", zone="ES", start="2023-07-15T17:00:00Z",
                  end="2023-07-15T18:00:00Z", watts=1000, signals=example_signals)
    at = "2023-07-15T18:00:00Z"
    plain = example_cluster.snapshot(example_engine, example_signals, at=at)
    over = example_cluster.snapshot(example_engine, example_signals, at=at, ledger=ledger)

    web = {**DEFERRABLE, "metadata": {"name": "web-7d9f", "namespace": "shop"}}
    before = example_engine.score(plain, web)
    after = example_engine.score(over, web)
    assert before.selected == after.selected == "no-1a"
    for node in ("ca-1a", "es-1a"):
        if before.feasible[plain.node_index(node)]:
            assert before.scores(node)["CarbonAwareScore"] > 0
            assert after.scores(node)["CarbonAwareScore"] == 0
    advice = ck.budget_advice(over, over.pod(web))
    assert advice.action == ck.BudgetAction.PREFER_GREENER and advice.max_intensity_g_per_kwh == 100

    deferred = example_engine.score(over, DEFERRABLE)
    assert deferred.selected is None
    assert "deferred until 2023-07-16T00:00:00Z" in deferred.reasons("no-1a")
    advice = ck.budget_advice(over, over.pod(DEFERRABLE))
    assert advice.action == ck.BudgetAction.DEFER and advice.defer_until == 1689465600
    assert "namespace shop used" in advice.reason
    assert ck.budget_advice(plain, plain.pod(DEFERRABLE)).action == ck.BudgetAction.NONE


def test_migration_numbers_and_policy() -> None:
    # 1 kW, 2 h left at 400 g/kWh; 100 g/kWh elsewhere; 60 s restart.
    now = 1689444000
    advisor = ck.MigrationAdvisor(SHOP_PROFILE)
    cands = [
        ck.Candidate("batch/a", "DIRTY", 1.0, 7200, policy="aggressive"),
        ck.Candidate("batch/b", "DIRTY", 1.0, 7200, policy="disabled"),
    ]
    outlooks = {"DIRTY": np.full(12, 400.0), "GREEN": np.full(12, 100.0)}
    a, b = advisor.advise(now, cands, outlooks)
    assert a.recommended and a.to_zone == "GREEN" and a.reason == "recommended"
    assert a.stay_g == pytest.approx(800)
    assert a.move_g == pytest.approx(100 * 7260 / 3600)
    assert a.move_cost_g == pytest.approx(100 * 60 / 3600)
    assert a.net_saving_g == pytest.approx(a.stay_g - a.move_g)
    assert "GREEN" in a.detail
    assert not b.recommended and b.reason == "policy-disabled"

    metrics = ck.Metrics()
    metrics.count_migrations(advisor)
    ledger = ck.Ledger()
    ledger.set_profile(SHOP_PROFILE)
    metrics.set_ledger(ledger, now)
    text = metrics.render()
    assert 'carbonkube_migrations_recommended_total{from_zone="DIRTY",to_zone="GREEN"} 1\n' in text
    assert 'katalyst_daily_carbon_budget_kg{namespace="shop"} 0.05\n' in text

    advisor.record("batch/a", now)
    assert advisor.migrations_in_last_hour(now) == 1
    a, b = advisor.advise(now + 60, [cands[0], ck.Candidate("batch/b", "DIRTY", 1.0, 7200, policy="aggressive")],
                          outlooks)
    assert a.reason == "cooldown" and b.reason == "rate-limited"
    with pytest.raises(ValueError, match="policy"):
        advisor.advise(now, [ck.Candidate("x/y", "DIRTY", 1.0, 60, policy="eager")], outlooks)
    with pytest.raises(ck.InvalidInputError, match="batch/a"):
        advisor.advise(now, [cands[0], cands[0]], outlooks)


def test_metrics_from_a_snapshot(example_engine, example_signals, example_cluster) -> None:
    snap = example_cluster.snapshot(example_engine, example_signals, at="2023-07-15T18:00:00Z")
    m = ck.Metrics()
    m.set_snapshot(snap)
    pod = snap.pod(DEFERRABLE)
    m.count_decision(snap, pod, True)
    m.set_qos_guarantee("shop", "web-7d9f", "green-guaranteed", True)
    text = m.render()
    assert "# TYPE carbon_intensity_gco2_kwh gauge\n" in text
    assert 'carbon_intensity_gco2_kwh{zone="NO",kind=' in text
    assert 'carbonkube_scheduling_decisions_total{qos_class="none",result="scheduled"} 1\n' in text
    assert 'katalyst_qos_guarantee_met{namespace="shop",pod="web-7d9f",qos_class="green-guaranteed"} 1\n' in text


def test_threads_sharing_a_ledger_and_signals(repo, example_engine, example_signals) -> None:
    # Publishing (cluster, signals, ledger locks) and accounting (signals,
    # ledger) from several threads at once: no deadlock, and every interval
    # is booked exactly once.
    import threading

    nodes = (repo / "examples/cluster/nodes.json").read_text()
    pods = (repo / "examples/cluster/pods.yaml").read_text()
    cluster = ck.Cluster()
    cluster.apply(nodes)
    ledger = ck.Ledger()
    ledger.set_profile(SHOP_PROFILE)
    t0 = 1689444000 - 40 * 60
    errors: list[BaseException] = []

    def account(k: int) -> None:
        try:
            for i in range(10):
                start = t0 + (k * 10 + i) * 60
                ledger.account(example_engine, example_signals, pods + "\n---\n" + nodes, start, start + 60)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    def publish() -> None:
        try:
            for _ in range(20):
                cluster.snapshot(example_engine, example_signals, at=1689444000, ledger=ledger)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=account, args=(k,)) for k in range(4)]
    threads += [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert ledger.total(ck.Scope.NAMESPACE, "shop").seconds == 3 * 40 * 60
