"""Every bad input raises a carbonkube.Error subclass with a message that
names what is wrong; nothing crashes and nothing half-applies."""

from __future__ import annotations

import numpy as np
import pytest

import carbonkube as ck
from conftest import REPO


def test_error_hierarchy():
    assert issubclass(ck.InvalidInputError, ValueError)
    assert issubclass(ck.LimitExceededError, ck.InvalidInputError)
    assert issubclass(ck.NotFoundError, LookupError)
    for cls in (ck.InvalidInputError, ck.NotFoundError, ck.MismatchError, ck.InternalError):
        assert issubclass(cls, ck.Error)


def test_malformed_config_names_the_field():
    with pytest.raises(ck.InvalidInputError, match="malformed YAML"):
        ck.Engine(config="apiVersion: x\nprofiles: [")
    bad_plugin = """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: s
  plugins:
    score:
      enabled: [{name: NoSuchPlugin, weight: 1}]
"""
    with pytest.raises(ck.InvalidInputError, match="NoSuchPlugin"):
        ck.Engine(config=bad_plugin)


def test_bad_objects_apply_nothing():
    cluster = ck.Cluster()
    good = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "ok"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}
    bad = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "bad"},
           "status": {"allocatable": {"cpu": "4x", "memory": "8Gi"}}}
    with pytest.raises(ck.InvalidInputError, match="bad") as e:
        cluster.apply([good, bad])
    assert "cpu" in str(e.value)
    assert cluster.node_count == 0
    cluster.apply([good])
    assert cluster.node_count == 1


def test_nan_and_negative_intensities_are_refused():
    sig = ck.Signals()
    with pytest.raises(ck.InvalidInputError):
        sig.add_points("NO", [1, 2], [30.0, float("nan")])
    with pytest.raises(ck.InvalidInputError):
        sig.add_points("NO", [1, 2], [30.0, -1.0])
    assert sig.zone_count == 0


def test_malformed_signal_files():
    sig = ck.Signals()
    with pytest.raises(ck.InvalidInputError):
        sig.load(b'{"data": [{"point_time": "not a time", "value": 1}], "meta": {"units": "lbs_co2_per_mwh"}}',
                 "watttime")
    with pytest.raises(ValueError, match="unknown carbon data format"):
        sig.load(b"{}", "no-such-format")
    with pytest.raises(ValueError, match="cannot tell"):
        sig.load(b'{"x": 1}')
    assert sig.zone_count == 0


def test_unknown_node_and_profile():
    engine = ck.Engine()
    cluster = ck.Cluster()
    cluster.apply_arrays(["n1"], {"cpu": [1000], "memory": [1 << 30]})
    snap = cluster.snapshot(engine)
    with pytest.raises(ck.NotFoundError, match="nope"):
        snap.node_index("nope")
    with pytest.raises(ck.NotFoundError):
        engine.score(snap, {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"},
                            "spec": {"containers": [{"name": "c"}]}}, profile="nope")


def test_mismatched_snapshot_and_engine():
    e1, e2 = ck.Engine(), ck.Engine()
    cluster = ck.Cluster()
    cluster.apply_arrays(["n1"], {"cpu": [1000], "memory": [1 << 30]})
    snap = cluster.snapshot(e1)
    pod = snap.pod({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"},
                    "spec": {"containers": [{"name": "c"}]}})
    with pytest.raises(ck.MismatchError):
        e2.score(snap, pod)


def test_wrong_types_and_shapes():
    cluster = ck.Cluster()
    with pytest.raises(TypeError):
        cluster.apply(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="allocatable"):
        cluster.apply_arrays(["a", "b"], {"cpu": [1]})
    with pytest.raises(ValueError, match="naive"):
        import datetime as dt

        cluster.snapshot(ck.Engine(), at=dt.datetime(2023, 1, 1))
    with pytest.raises(TypeError):
        ck.Engine(config=np.zeros(3))  # type: ignore[arg-type]


def test_a_bad_pod_in_a_batch_does_not_stop_the_others():
    engine = ck.Engine()
    cluster = ck.Cluster()
    cluster.apply_arrays(["n1"], {"cpu": [4000], "memory": [8 << 30], "pods": [110]})
    snap = cluster.snapshot(engine)
    good = snap.pod({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "good"},
                     "spec": {"containers": [{"name": "c"}]}})
    bad = snap.pod({"kind": "Pod", "apiVersion": "v1",
                    "metadata": {"name": "bad", "annotations": {"katalyst.kubewharf.io/qos_level": "gold"}},
                    "spec": {"containers": [{"name": "c"}]}})
    batch = engine.score_batch(snap, [good, bad, good])
    assert batch.selected_names() == ["n1", None, "n1"]
    assert list(batch.status) == [0, 2, 0]  # CK_ERROR_INVALID_INPUT for the bad one only
    assert "qos_level" in batch.error and "gold" in batch.error
    with pytest.raises(ck.InvalidInputError, match="gold"):
        engine.score(snap, bad)
