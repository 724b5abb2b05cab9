"""Property tests: on random clusters the engine gives kube-scheduler's
integers (tests/python/reference.py) for NodeResourcesFit's strategies and
BalancedAllocation, its totals are the weighted sums, and it selects a
node with the highest total; batches agree from many threads at once."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carbonkube as ck
import reference as ref

GIB = 1 << 30


def engine_for(strategy: str, w_cpu: int, w_mem: int, w_fit: int, w_bal: int) -> ck.Engine:
    config = f"""
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 100
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{{name: "*"}}]
      enabled:
      - {{name: NodeResourcesFit, weight: {w_fit}}}
      - {{name: NodeResourcesBalancedAllocation, weight: {w_bal}}}
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: {strategy}
        resources: [{{name: cpu, weight: {w_cpu}}}, {{name: memory, weight: {w_mem}}}]
"""
    return ck.Engine(config=config)


node_st = st.builds(
    ref.Node,
    cpu=st.integers(0, 64_000),
    memory=st.integers(0, 256) .map(lambda g: g * GIB // 4),
    pods=st.integers(0, 20),
)
bound_st = st.lists(
    st.tuples(st.integers(1, 8_000), st.integers(1, 32 * GIB), st.integers(0, 1_000)), max_size=40
)


def build(nodes: list[ref.Node], bound: list[tuple[int, int, int]]) -> ck.Cluster:
    cluster = ck.Cluster()
    names = [f"n{i}" for i in range(len(nodes))]
    cluster.apply_arrays(
        names,
        {"cpu": [n.cpu for n in nodes], "memory": [n.memory for n in nodes], "pods": [n.pods for n in nodes]},
    )
    placed = [(c, m, k % len(nodes)) for c, m, k in bound]
    if placed:
        cluster.apply_pod_arrays(
            [f"b{i}" for i in range(len(placed))],
            {"cpu": [c for c, _, _ in placed], "memory": [m for _, m, _ in placed]},
            [names[k] for _, _, k in placed],
        )
    for c, m, k in placed:
        nodes[k].used_cpu += c
        nodes[k].used_memory += m
        nodes[k].used_pods += 1
    return cluster


def pod(cpu: int, memory: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pending", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": f"{cpu}m", "memory": str(memory)}}}]},
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    nodes=st.lists(node_st, min_size=1, max_size=30),
    bound=bound_st,
    cpu=st.integers(1, 16_000),
    memory=st.integers(1, 64 * GIB),
    strategy=st.sampled_from(["LeastAllocated", "MostAllocated"]),
    w_cpu=st.integers(1, 5),
    w_mem=st.integers(1, 5),
    w_fit=st.integers(1, 10),
    w_bal=st.integers(1, 10),
    seed=st.integers(0, 2**32),
)
def test_resource_scores_match_the_reference(nodes, bound, cpu, memory, strategy, w_cpu, w_mem, w_fit, w_bal, seed):
    engine = engine_for(strategy, w_cpu, w_mem, w_fit, w_bal)
    cluster = build(nodes, bound)
    snap = cluster.snapshot(engine)
    r = engine.score(snap, pod(cpu, memory), ck.Context(seed))
    assert r.plugins == ["NodeResourcesFit", "NodeResourcesBalancedAllocation"]
    best = None
    for i, n in enumerate(nodes):
        feasible = ref.fits(n, cpu, memory)
        assert bool(r.feasible[i]) == feasible, (i, n)
        if not feasible:
            assert r.reasons(i).startswith("NodeResourcesFit")
            continue
        fit = ref.fit_score(n, cpu, memory, strategy, w_cpu, w_mem)
        bal = ref.balanced_score(n, cpu, memory)
        assert r.scores(i) == {"NodeResourcesFit": fit, "NodeResourcesBalancedAllocation": bal}, (i, n)
        total = w_fit * fit + w_bal * bal
        assert r.totals[i] == total
        best = total if best is None else max(best, total)
    if best is None:
        assert r.selected is None
    else:
        assert r.selected_index >= 0 and r.totals[r.selected_index] == best


@settings(max_examples=30, deadline=None)
@given(
    nodes=st.lists(node_st, min_size=1, max_size=20),
    bound=bound_st,
    seed=st.integers(0, 1000),
)
def test_ties_are_broken_reproducibly(nodes, bound, seed):
    engine = engine_for("LeastAllocated", 1, 1, 1, 1)
    snap = build(nodes, bound).snapshot(engine)
    a = engine.score(snap, pod(100, GIB), ck.Context(seed))
    b = engine.score(snap, pod(100, GIB), ck.Context(seed))
    assert a.selected_index == b.selected_index


def test_batch_from_many_threads_at_once():
    rng = np.random.default_rng(7)
    n = 2_000
    engine = ck.Engine()
    cluster = ck.Cluster()
    cluster.apply_arrays(
        [f"n{i}" for i in range(n)],
        {"cpu": rng.integers(2_000, 64_000, n), "memory": rng.integers(4, 256, n) * GIB, "pods": np.full(n, 110)},
    )
    snap = cluster.snapshot(engine)
    pods = [snap.pod(pod(int(c), int(m))) for c, m in zip(rng.integers(100, 8_000, 64), rng.integers(1, 32, 64) * GIB)]
    expected = engine.score_batch(snap, pods, ck.Context(1))
    results: list = [None] * 4
    errors: list = []

    def work(k: int) -> None:
        try:
            for _ in range(5):
                results[k] = engine.score_batch(snap, pods, ck.Context(1))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_array_equal(r.totals, expected.totals)
        np.testing.assert_array_equal(r.selected, expected.selected)


def test_shared_context_is_serialised_not_corrupted():
    engine = ck.Engine()
    cluster = ck.Cluster()
    cluster.apply_arrays([f"n{i}" for i in range(500)], {"cpu": np.full(500, 8_000), "memory": np.full(500, 16 * GIB)})
    snap = cluster.snapshot(engine)
    p = snap.pod(pod(500, GIB))
    shared = ck.Context(0)
    want = engine.score(snap, p, ck.Context(0)).totals.copy()
    bad: list = []

    def work() -> None:
        for _ in range(50):
            got = engine.score(snap, p, shared).totals
            if not np.array_equal(got, want):
                bad.append(got)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad
