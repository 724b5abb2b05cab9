"""Forecasts on the bundled data and the planner against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import carbonkube as ck
from conftest import EXAMPLE_SIGNALS

DAY = 86400


def test_forecasts_on_bundled_data():
    sig = ck.Signals.from_files(*EXAMPLE_SIGNALS)
    issue = "2023-07-15T00:00:00Z"
    naive = sig.forecast("ES", issue, 24, "seasonal-naive")
    yesterday = sig.forecast("ES", "2023-07-14T00:00:00Z", 24, "perfect")
    np.testing.assert_array_equal(naive, yesterday)
    ridge = sig.forecast("ES", issue, 48, "ridge")
    assert ridge.shape == (48,) and np.isfinite(ridge).all() and (ridge >= 0).all()
    with pytest.raises(ck.NotFoundError):
        sig.forecast("XX", issue)
    with pytest.raises(ValueError, match="unknown forecast model"):
        sig.forecast("ES", issue, model="oracle")


@settings(max_examples=100, deadline=None)
@given(
    curve=st.lists(st.floats(0, 800, allow_nan=False), min_size=4, max_size=48),
    duration_h=st.integers(1, 6),
    slack_h=st.integers(0, 24),
    power=st.floats(0.1, 50),
)
def test_plan_is_the_brute_force_minimum(curve, duration_h, slack_h, power):
    n = len(curve)
    duration_h = min(duration_h, n)
    window = min(duration_h + slack_h, n)
    p = ck.plan(curve, start=0, arrival=0, duration_seconds=duration_h * 3600,
                deadline=window * 3600, power_kw=power)
    costs = [power * sum(curve[s:s + duration_h]) for s in range(window - duration_h + 1)]
    best = min(costs)
    assert p.expected_g == pytest.approx(best, rel=1e-9, abs=1e-6)
    assert p.immediate_g == pytest.approx(costs[0], rel=1e-9, abs=1e-6)
    assert p.expected_g <= p.immediate_g + 1e-6
    assert p.start == costs.index(best) * 3600 or costs[p.start // 3600] == pytest.approx(best)
    # Interruptible: the cleanest hours of the window.
    q = ck.plan(curve, start=0, arrival=0, duration_seconds=duration_h * 3600,
                deadline=window * 3600, power_kw=power, interruptible=True)
    assert q.expected_g == pytest.approx(power * sum(sorted(curve[:window])[:duration_h]), rel=1e-9, abs=1e-6)
    assert int((q.runs[:, 1] - q.runs[:, 0]).sum()) == duration_h * 3600


def test_plan_rejects_bad_jobs():
    with pytest.raises(ck.InvalidInputError):
        ck.plan([1.0, 2.0], start=0, arrival=0, duration_seconds=0, deadline=3600)
    with pytest.raises(ck.InvalidInputError):
        ck.plan([1.0, float("nan")], start=0, arrival=0, duration_seconds=3600, deadline=7200)
    with pytest.raises(ck.InvalidInputError):
        ck.plan([1.0, 2.0], start=0, arrival=0, duration_seconds=3600, deadline=5 * 3600)


def test_interruptible_runs_partial_at_both_ends():
    # Runs can be partial in the arrival cell, the deadline cell and the last
    # cell used: four runs for a 1.5-hour job here.
    p = ck.plan([1, 100, 4, 3, 100, 2], start=0, arrival=3599, duration_seconds=5400,
                deadline=18001, interruptible=True)
    assert len(p.runs) == 4
    assert int((p.runs[:, 1] - p.runs[:, 0]).sum()) == 5400
    assert (p.runs[:, 0] >= 3599).all() and (p.runs[:, 1] <= 18001).all()


def test_forecast_hours_are_checked_before_anything_is_allocated():
    sig = ck.Signals.from_files(*EXAMPLE_SIGNALS)
    with pytest.raises(ValueError, match="1..168"):
        sig.forecast("ES", "2023-07-15T00:00:00Z", 10**12)
