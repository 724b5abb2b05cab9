"""The engine: compiled scheduling profiles, carbon QoS profiles and the
zone map, and scoring with kube-scheduler's semantics.

``Engine`` is immutable and may be shared by threads. Scoring takes a
``Context`` (one thread's scratch memory, tie-breaking RNG and rotating start
node, as kube-scheduler keeps between cycles); without one, a fresh context
seeded with 0 is used, so results are reproducible.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from . import _core
from ._inputs import Document, document_text
from .cluster import Pod, PodList, Snapshot

__all__ = ["Engine", "Context", "ScoreResult", "BatchResult", "Reconciler", "NODE_STATES"]

#: ck_node_state names, by value.
NODE_STATES = ("not-evaluated", "feasible", "infeasible")


_BY_NAME: int = _core.PROFILE_BY_SCHEDULER_NAME


def _optional_text(value: Optional[Document], what: str) -> Optional[bytes]:
    return None if value is None else document_text(value, what)[0]


class Engine:
    """Scheduling profiles from a ``KubeSchedulerConfiguration``
    (``kubescheduler.config.k8s.io/v1``; default: the seed's
    ``katalyst-carbon-scheduler``), carbon QoS profiles (a ``CarbonProfile``
    or Helm values with ``katalyst.qosProfiles``; default: the seed's three),
    and the ``ZoneMap`` from node labels to grid zones (default: none, so
    scoring is carbon-neutral). Each may be a dict, text or a path."""

    def __init__(
        self,
        config: Optional[Document] = None,
        *,
        qos_profiles: Optional[Document] = None,
        zones: Optional[Document] = None,
        max_signal_age_seconds: int = 0,
        max_g_per_kwh: float = 0.0,
    ) -> None:
        self._core = _core.Engine(
            _optional_text(config, "config"),
            _optional_text(qos_profiles, "qos_profiles"),
            _optional_text(zones, "zones"),
            int(max_signal_age_seconds),
            float(max_g_per_kwh),
        )
        self.profiles: list[str] = self._core.profile_names()
        self.zones: list[str] = self._core.zones()

    def score_plugins(self, profile: Union[int, str] = 0) -> list[tuple[str, int]]:
        """(plugin, weight) of a profile's score plugins, in score-column order."""
        return self._core.score_plugins(self._profile_index(profile))

    def filter_plugins(self, profile: Union[int, str] = 0) -> list[str]:
        return self._core.filter_plugins(self._profile_index(profile))

    @property
    def qos_profiles(self) -> list[tuple[str, float]]:
        """(name, maximum gCO2/kWh) of the carbon QoS profiles, greenest first."""
        return self._core.qos_profiles()

    def _profile_index(self, profile: Union[int, str, None]) -> int:
        if profile is None:
            return _core.PROFILE_BY_SCHEDULER_NAME
        if isinstance(profile, str):
            try:
                return self.profiles.index(profile)
            except ValueError:
                from .errors import NotFoundError

                raise NotFoundError(
                    f"no profile with schedulerName {profile!r}; profiles: {self.profiles}"
                ) from None
        return int(profile)

    def score(
        self,
        snapshot: Snapshot,
        pod: Union[Pod, Document],
        context: Optional["Context"] = None,
        *,
        profile: Union[int, str, None] = None,
        scores: bool = True,
    ) -> "ScoreResult":
        """One scheduling cycle for one pod: Filter, Score, NormalizeScore,
        weighted sum, selection. ``profile`` None picks the pod's
        ``spec.schedulerName`` (else the first profile)."""
        self._check(snapshot)
        if not isinstance(pod, Pod):
            pod = snapshot.pod(pod)
        ctx = context if context is not None else Context()
        record, nodes, plugin_scores = ctx._core.score_pod(
            self._core, snapshot._core, pod._core, self._profile_index(profile), scores
        )
        p = int(record["profile"])
        return ScoreResult(
            pod=pod.key,
            selected_index=int(record["selected"]),
            total=int(record["total"]),
            feasible_count=int(record["feasible"]),
            processed=int(record["processed"]),
            profile=self.profiles[p],
            nodes=nodes,
            plugins=[name for name, _ in self._core.score_plugins(p)],
            plugin_scores=plugin_scores,
            _snapshot=snapshot,
            _context=ctx,
        )

    def select(
        self,
        snapshot: Snapshot,
        pod: Pod,
        context: Optional["Context"] = None,
        *,
        profile: Union[int, str, None] = None,
    ) -> Optional[int]:
        """The node index a full scheduling cycle selects for ``pod`` (None
        when no node is feasible), without per-node results: the cheapest
        call, for a host that only needs the decision."""
        if snapshot.engine is not self:
            self._check(snapshot)
        ctx = context if context is not None else Context()
        selected = ctx._core.select(
            self._core, snapshot._core, pod._core,
            _BY_NAME if profile is None else self._profile_index(profile),
        )[0]
        return None if selected < 0 else selected

    def score_batch(
        self,
        snapshot: Snapshot,
        pods: Union[PodList, Iterable[Pod]],
        context: Optional["Context"] = None,
        *,
        profile: Union[int, str, None] = None,
        totals: bool = True,
    ) -> "BatchResult":
        """Scores pods independently against one snapshot (nothing is assumed
        bound between them), with the GIL released. A pod that fails has its
        error in ``status`` and does not stop the others."""
        if snapshot.engine is not self:
            self._check(snapshot)
        ctx = context if context is not None else Context()
        records, totals_array, message = ctx._core.score_batch(
            self._core, snapshot._core, [p._core for p in pods],
            _BY_NAME if profile is None else self._profile_index(profile), totals,
        )
        return BatchResult(records, totals_array, message, snapshot)

    def _check(self, snapshot: Snapshot) -> None:
        if snapshot.engine is not self:
            from .errors import MismatchError

            raise MismatchError("the snapshot was published for another engine")


class Context:
    """One thread's scoring state. Sharing one between threads is safe but
    serialises them: give each thread its own."""

    def __init__(self, seed: int = 0) -> None:
        self._core = _core.Context(int(seed))


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """One pod's scheduling cycle. ``nodes`` is a structured array with one
    record per snapshot node: ``total`` (weighted sum, 0 unless feasible),
    ``state`` (0 not evaluated, 1 feasible, 2 infeasible), ``failed_filter``
    and ``reasons``; ``plugin_scores[node, i]`` is ``plugins[i]``'s score
    0..100, or -1 where the node is infeasible or the plugin skipped the pod."""

    pod: str
    selected_index: int
    total: int
    feasible_count: int
    processed: int
    profile: str
    nodes: np.ndarray
    plugins: list[str]
    plugin_scores: Optional[np.ndarray]
    _snapshot: Snapshot
    _context: Context

    @property
    def selected(self) -> Optional[str]:
        """The chosen node's name, or None when no node is feasible."""
        return None if self.selected_index < 0 else self._snapshot.node_names[self.selected_index]

    @property
    def feasible(self) -> np.ndarray:
        return self.nodes["state"] == 1

    @property
    def totals(self) -> np.ndarray:
        return self.nodes["total"]

    def scores(self, node: Union[int, str]) -> dict[str, int]:
        """Plugin name → score for one node (plugins that scored it)."""
        if self.plugin_scores is None:
            raise ValueError("scored with scores=False")
        i = self._node(node)
        return {p: int(s) for p, s in zip(self.plugins, self.plugin_scores[i]) if s >= 0}

    def _node(self, node: Union[int, str]) -> int:
        if isinstance(node, str):
            return self._snapshot.node_index(node)
        if not 0 <= node < len(self.nodes):
            raise IndexError(f"node index {node} out of range ({len(self.nodes)} nodes)")
        return int(node)

    def reasons(self, node: Union[int, str]) -> str:
        """Why a node was filtered out ("" if it was not). Valid until the
        context scores another pod."""
        return self._context._core.node_reasons(self._node(node))

    def explain(self) -> dict:
        """The cycle as the CLI explains it (valid until the context scores
        another pod)."""
        return json.loads(self._context._core.explain())


class BatchResult:
    """Pods scored together. ``records`` is a structured array, one record
    per pod (``selected`` node index or -1, ``total``, ``feasible``,
    ``processed``, ``status`` 0 or a ck_status, ``profile``), written by the
    engine in place; the properties are views of it. ``totals[pod, node]``
    holds the weighted totals (-1 where infeasible). ``error`` is the first
    failing pod's message ("" when all succeeded)."""

    __slots__ = ("records", "totals", "error", "_snapshot")

    def __init__(self, records: np.ndarray, totals: Optional[np.ndarray], error: str, snapshot: Snapshot) -> None:
        self.records = records
        self.totals = totals
        self.error = error
        self._snapshot = snapshot

    @property
    def selected(self) -> np.ndarray:
        return self.records["selected"]

    @property
    def total(self) -> np.ndarray:
        return self.records["total"]

    @property
    def feasible_count(self) -> np.ndarray:
        return self.records["feasible"]

    @property
    def status(self) -> np.ndarray:
        return self.records["status"]

    def selected_names(self) -> list[Optional[str]]:
        names = self._snapshot.node_names
        return [None if i < 0 else names[i] for i in self.selected]


class Reconciler:
    """Gives each grid zone a carbon QoS profile from its intensity, with a
    hysteresis band and a minimum dwell time so zones do not flap at a
    threshold (docs/qos.md). One controller loop owns it."""

    def __init__(
        self,
        engine: Engine,
        *,
        hysteresis_g_per_kwh: float = 20.0,
        hysteresis_fraction: float = 0.0,
        min_dwell_seconds: int = 900,
    ) -> None:
        self.engine = engine
        self._core = _core.Reconciler(
            engine._core, float(hysteresis_g_per_kwh), float(hysteresis_fraction), int(min_dwell_seconds)
        )

    def reconcile(self, now: Any, zones: Any) -> list[dict]:
        """One round at ``now``. ``zones`` maps zone → g/kWh (None: no usable
        data, the zone keeps its profile), or is a list of (zone, g/kWh,
        usable). Returns a decision per zone with the profile's name."""
        from ._inputs import unix_seconds

        if isinstance(zones, dict):
            items = [(z, float("nan") if g is None else float(g), g is not None) for z, g in zones.items()]
        else:
            items = [(str(z), float(g), bool(u)) for z, g, u in zones]
        names = [n for n, _ in self.engine.qos_profiles]
        out = self._core.reconcile(unix_seconds(now, "now"), items)
        for d in out:
            d["profile"] = names[d["profile"]] if d["profile"] >= 0 else None
            d["previous"] = names[d["previous"]] if d["previous"] >= 0 else None
        return out
