"""The Python API on the bundled example: the same placements as the CLI,
explanations, snapshots that do not move, the reconciler, arrays."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import carbonkube as ck
from conftest import EXAMPLE_AT, EXAMPLE_SIGNALS, REPO


def cli_results() -> list[dict]:
    exe = pathlib.Path(sys.executable).parent / "carbonkube"
    args = [str(exe), "score", "--nodes", str(REPO / "examples/cluster/nodes.json"),
            "--pods", str(REPO / "examples/cluster/pods.yaml"),
            "--cnrs", str(REPO / "examples/cluster/cnrs.yaml"),
            "--zones", str(REPO / "examples/config/zones.yaml"), "--at", EXAMPLE_AT]
    for s in EXAMPLE_SIGNALS:
        args += ["--signals", str(s)]
    # Exit code 2 is the CLI's "some pod had bad input"; the example has none.
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["results"]


def test_version_and_cli_on_path():
    assert ck.__version__ == "0.1.0"
    exe = pathlib.Path(sys.executable).parent / "carbonkube"
    out = subprocess.run([str(exe), "version"], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "carbonkube 0.1.0"


def test_places_the_example_exactly_as_the_cli(example_engine, example_signals, example_cluster):
    expected = cli_results()
    snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    pods = snap.pending_pods(REPO / "examples/cluster/pods.yaml")
    assert [p.key for p in pods] == [r["pod"] for r in expected]
    ctx = ck.Context(seed=0)
    for pod, want in zip(pods, expected):
        got = example_engine.score(snap, pod, ctx)
        assert got.selected == want["selected"], pod.key
        by_name = {n["name"]: n for n in want["nodes"]}
        for i, name in enumerate(snap.node_names):
            w = by_name[name]
            assert bool(got.feasible[i]) == w["feasible"], (pod.key, name)
            if w["feasible"]:
                assert int(got.totals[i]) == w["total"], (pod.key, name)
                assert got.scores(i) == w["scores"], (pod.key, name)
            else:
                assert got.reasons(i), (pod.key, name)
        if got.selected is not None:
            # Placed pods count before the next, as the CLI (and kube-scheduler) assume.
            example_cluster.assume(snap, pod, got.selected)
            snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)


def test_explain_names_every_node(example_engine, example_signals, example_cluster):
    snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    pods = snap.pending_pods(REPO / "examples/cluster/pods.yaml")
    huge = next(p for p in pods if p.key == "batch/huge-0")
    r = example_engine.score(snap, huge)
    assert r.selected is None and r.feasible_count == 0
    doc = r.explain()
    assert doc["pod"] == "batch/huge-0" and doc["selected"] is None
    assert sorted(n["name"] for n in doc["nodes"]) == sorted(snap.node_names)
    assert "Insufficient cpu" in r.reasons("es-1a")


def test_snapshot_is_immutable_under_updates(example_engine, example_signals, example_cluster):
    snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    pod = snap.pending_pods(REPO / "examples/cluster/pods.yaml")[0]
    before = example_engine.score(snap, pod).totals.copy()
    example_cluster.remove_node("no-1a")
    assert example_cluster.node_count == 5
    after_old = example_engine.score(snap, pod).totals
    np.testing.assert_array_equal(before, after_old)
    fresh = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    assert "no-1a" not in fresh.node_names and len(fresh) == 5


def test_zone_readings_carry_status(example_engine, example_signals, example_cluster):
    snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    no = snap.zone_reading("NO")
    assert no["usable"] and no["status"] == "ok"
    assert no["g_per_kwh"] == pytest.approx(25.51, abs=0.01)
    # A year later the data is stale: neutral, with the reason, never a NaN score.
    late = example_cluster.snapshot(example_engine, example_signals, at="2024-07-15T18:00:00Z")
    assert not late.zone_reading("NO")["usable"]
    assert late.zone_reading("NO")["status"] == "stale"
    pod = late.pending_pods(REPO / "examples/cluster/pods.yaml")[0]
    r = example_engine.score(late, pod)
    assert r.selected is not None
    carbon = r.plugin_scores[r.feasible][:, r.plugins.index("CarbonAwareScore")]
    assert (carbon == carbon[0]).all() and 0 < carbon[0] < 100  # neutral: ranks no node


def test_reconciler_hysteresis(example_engine):
    rec = ck.Reconciler(example_engine, hysteresis_g_per_kwh=20, min_dwell_seconds=0)
    first = rec.reconcile(0, {"ES": 95.0})[0]
    assert first["profile"] == "green-guaranteed" and first["changed"]
    # Just over the 100 g threshold: held by the band.
    held = rec.reconcile(60, {"ES": 110.0})[0]
    assert held["profile"] == "green-guaranteed" and held["reason"] == "held-by-band"
    moved = rec.reconcile(120, {"ES": 130.0})[0]
    assert moved["profile"] == "mixed-burstable" and moved["reason"] == "moved-dirtier"
    nodata = rec.reconcile(180, {"ES": None})[0]
    assert nodata["profile"] == "mixed-burstable" and nodata["reason"] == "no-data"


def test_signals_from_arrays_and_datetimes(example_engine):
    sig = ck.Signals()
    times = np.array(["2023-01-01T00:00", "2023-01-01T01:00"], dtype="datetime64[s]")
    sig.add_points("NO", times, [30.0, 31.0])
    assert sig.zone_count == 1
    assert sig.newest_time == 1672534800
    import datetime as dt

    r = sig.evaluate(example_engine, "NO", dt.datetime(2023, 1, 1, 1, 30, tzinfo=dt.timezone.utc))
    assert r["usable"] and r["g_per_kwh"] == 31.0


def test_cluster_from_arrays_scores_like_objects():
    engine = ck.Engine()
    a = ck.Cluster()
    a.apply_arrays(["n1", "n2"], {"cpu": [4000, 8000], "memory": [8 << 30, 8 << 30], "pods": [110, 110]})
    b = ck.Cluster()
    nodes = [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": n},
         "status": {"allocatable": {"cpu": c, "memory": "8Gi", "pods": "110"}}}
        for n, c in (("n1", "4"), ("n2", "8"))
    ]
    b.apply(nodes)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}
    ra = engine.score(a.snapshot(engine), pod)
    rb = engine.score(b.snapshot(engine), pod)
    assert ra.selected == rb.selected == "n2"
    np.testing.assert_array_equal(ra.totals, rb.totals)
    np.testing.assert_array_equal(ra.plugin_scores, rb.plugin_scores)


def test_batch_equals_one_by_one(example_engine, example_signals, example_cluster):
    snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    pods = snap.pending_pods(REPO / "examples/cluster/pods.yaml")
    batch = example_engine.score_batch(snap, pods, ck.Context(3))
    assert batch.totals.shape == (len(pods), len(snap))
    for i, pod in enumerate(pods):
        one = example_engine.score(snap, pod)
        want = np.where(one.feasible, one.totals, -1)
        np.testing.assert_array_equal(batch.totals[i], want)
        assert (batch.selected[i] < 0) == (one.selected is None)
    assert (batch.status == 0).all() and batch.error == ""


def test_select_agrees_with_score(example_engine, example_signals, example_cluster):
    snap = example_cluster.snapshot(example_engine, example_signals, at=EXAMPLE_AT)
    for pod in snap.pending_pods(REPO / "examples/cluster/pods.yaml"):
        full = example_engine.score(snap, pod, ck.Context(5))
        chosen = example_engine.select(snap, pod, ck.Context(5))
        assert chosen == (None if full.selected_index < 0 else full.selected_index)
