"""The side-by-side benchmark's references (bench/seed_python/) compute
exactly what carbonkube computes: the seed composite against the seed
profile's totals, and NodeResourcesFit + BalancedAllocation against that
profile alone, on generated clusters at several hours of 2023 (so zones
cross the carbon threshold and the QoS profile bands)."""

from __future__ import annotations

import pathlib
import sys
from datetime import datetime

import numpy as np
import pytest

import carbonkube as ck

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench/seed_python"))

import make_cluster  # noqa: E402
import run_seed  # noqa: E402
import seed_scores as ss  # noqa: E402

CSVS = [str(REPO / f"data/carbon/electricitymaps/{z}_2023_hourly.csv") for z in ("US-CAL-CISO", "ES", "NO", "BR")]


@pytest.fixture(scope="module")
def intensities_by_hour() -> dict[str, dict[str, float]]:
    hours = ["2023-01-10T03:00:00Z", "2023-07-15T18:00:00Z", "2023-11-02T12:00:00Z"]
    out = {h: ss.load_intensity(CSVS, datetime.fromisoformat(h.replace("Z", "+00:00"))) for h in hours}
    seen = {ss.qos_score(i) for by_zone in out.values() for i in by_zone.values()}
    assert seen == {75.0, 50.0, 25.0}, "the hours must put zones in all three QoS bands"
    assert any(i > ss.THRESHOLD for by_zone in out.values() for i in by_zone.values())
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seed_reference_matches_carbonkube(tmp_path, intensities_by_hour, seed: int) -> None:
    import json

    path = tmp_path / "cluster.json"
    zones = tmp_path / "zones.yaml"
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": make_cluster.items(60, 12, seed)}, f)
    zones.write_text(make_cluster.zones_yaml())
    nodes, pods = ss.load_cluster(str(path))
    arrays = None
    for at, intensity in intensities_by_hour.items():
        assert set(intensity) == {"US-CAL-CISO", "ES", "NO", "BR"}
        plain, chosen = ss.score_plain(nodes, pods, intensity)
        plain = np.array(plain, dtype=np.int64)
        arrays = ss.NodeArrays(nodes, intensity)
        cpu = np.array([p["cpu"] for p in pods], dtype=np.int64)
        mem = np.array([p["mem"] for p in pods], dtype=np.int64)
        vec, vchosen = ss.score_numpy(arrays, cpu, mem, chunk=5)
        ck_seed, ck_fb = run_seed.carbonkube_totals(str(path), str(zones), CSVS, at)
        np.testing.assert_array_equal(plain, vec)
        np.testing.assert_array_equal(plain, ck_seed)
        np.testing.assert_array_equal(np.array(chosen), vchosen)
        np.testing.assert_array_equal(np.array(ss.fit_balanced_plain(nodes, pods)), ck_fb)
        np.testing.assert_array_equal(ss.fit_balanced_numpy(arrays, cpu, mem, chunk=5), ck_fb)
        # Not a vacuous check: some nodes are infeasible, the rest differ.
        assert (ck_fb == -1).any() and (ck_fb >= 0).sum() > ck_fb.size // 2
        assert len(np.unique(ck_seed[ck_seed >= 0])) > 10
        # The chosen node is a feasible node with the highest total.
        for p, n in enumerate(chosen):
            assert n >= 0 and ck_seed[p, n] == ck_seed[p].max()


def test_carbon_and_qos_terms_follow_the_documented_points() -> None:
    # docs/carbon-scoring.md: 0 g -> 100, 150 -> 75, 300 -> 50, 450 -> 18, 600 -> 7.
    assert [ss.carbon_score(i) for i in (0.0, 150.0, 300.0, 450.0, 600.0)] == [100, 75, 50, 18, 7]
    assert ss.carbon_score(None) == 50
    # A burstable pod: 75 / 50 / 25 across green / mixed / dirty zones.
    assert [ss.qos_score(i) for i in (50.0, 200.0, 450.0, 900.0)] == [75.0, 50.0, 25.0, 25.0]
