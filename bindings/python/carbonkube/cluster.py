"""The cluster and its immutable snapshots.

``Cluster`` is the single-writer state that Node, Pod and
CustomNodeResource events update; ``Cluster.snapshot`` publishes an
immutable ``Snapshot`` (copy-on-write, cheap after a small change) that any
number of threads may score against while the cluster moves on.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import numpy as np

from . import _core
from ._inputs import Document, Time, document_text, unix_seconds

__all__ = ["Cluster", "Snapshot", "Pod", "PodList", "READING_STATUS"]

#: ck_reading_status names, by value.
READING_STATUS = (
    "ok",
    "missing-zone",
    "no-data",
    "stale",
    "future",
    "not-finite",
    "negative",
    "below-min",
    "above-max",
    "wrong-kind",
    "estimated-rejected",
    "incomplete-window",
)


def _reading(d: dict) -> dict:
    d = dict(d)
    d["status"] = READING_STATUS[d["status"]] if 0 <= d["status"] < len(READING_STATUS) else "unknown"
    return d


class Pod:
    """A Pod compiled against a snapshot, to score many times. Valid for
    later snapshots of the same cluster while no new resource name appears."""

    __slots__ = ("_core",)

    def __init__(self, core: Any) -> None:
        self._core = core

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return self._core.key()

    def __repr__(self) -> str:
        return f"Pod({self.key!r})"


class PodList(Sequence[Pod]):
    """The pending pods of a document, in order (bound and terminal pods and
    other kinds are skipped)."""

    def __init__(self, core: Any) -> None:
        self._core = core
        self._pods = [Pod(core.get(i)) for i in range(len(core))]

    def __len__(self) -> int:
        return len(self._pods)

    def __getitem__(self, i: Any) -> Any:
        return self._pods[i]

    def __iter__(self) -> Iterator[Pod]:
        return iter(self._pods)


class Snapshot:
    """An immutable picture of the cluster plus the carbon and topology
    conditions at one time, compiled for one engine."""

    __slots__ = ("_core", "engine", "_names")

    def __init__(self, core: Any, engine: Any) -> None:
        self._core = core
        self.engine = engine
        self._names: Optional[list[str]] = None

    @property
    def node_count(self) -> int:
        return self._core.node_count()

    def __len__(self) -> int:
        return self._core.node_count()

    @property
    def node_names(self) -> list[str]:
        if self._names is None:
            self._names = self._core.node_names()
        return self._names

    def node_index(self, name: str) -> int:
        """Raises NotFoundError for an unknown node."""
        return self._core.find_node(name)

    @property
    def node_zones(self) -> np.ndarray:
        """Each node's grid zone index in ``engine.zones`` (-1 for none)."""
        return self._core.node_zones()

    def zone_reading(self, zone: Union[int, str]) -> dict:
        """The carbon reading of a zone (index or name) in this snapshot."""
        if isinstance(zone, str):
            if zone not in self.engine.zones:
                from .errors import NotFoundError

                raise NotFoundError(f"no zone {zone!r} in the engine's zone map; zones: {self.engine.zones}")
            zone = self.engine.zones.index(zone)
        return _reading(self._core.zone_reading(zone))

    @property
    def time(self) -> int:
        """The unix time the intensities are for."""
        return self._core.time()

    def pod(self, pod: Document) -> Pod:
        """Parses and compiles exactly one Pod."""
        text, _ = document_text(pod, "pod")
        return Pod(self._core.pod(text))

    def pending_pods(self, pods: Document) -> PodList:
        """The pending Pods of a List / PodList / stream of documents."""
        text, source = document_text(pods, "pods")
        return PodList(self._core.pending_pods(text, source))


class Cluster:
    """Nodes, bound pods and Katalyst CustomNodeResources; one writer at a time."""

    def __init__(self, objects: Optional[Document] = None) -> None:
        self._core = _core.Cluster()
        if objects is not None:
            self.apply(objects)

    def apply(self, objects: Document) -> dict:
        """Upserts every Node, Pod and CustomNodeResource in a document:
        a dict or list of dicts, JSON/YAML text, or a path. Atomic: on an
        error nothing is applied. Returns counts per kind."""
        if isinstance(objects, list) and all(isinstance(o, dict) for o in objects):
            objects = {"apiVersion": "v1", "kind": "List", "items": objects}
        text, source = document_text(objects, "objects")
        return self._core.apply(text, source)

    def apply_arrays(
        self,
        names: Sequence[str],
        allocatable: Mapping[str, Any],
        labels: Optional[Sequence[Union[str, Mapping[str, str]]]] = None,
    ) -> None:
        """Upserts nodes from a structure of arrays: ``allocatable`` maps a
        resource name ("cpu" in millicores, "memory" in bytes, "pods",
        "nvidia.com/gpu", ...) to one int64 value per node."""
        label_text = None
        if labels is not None:
            label_text = [
                l if isinstance(l, str) else ",".join(f"{k}={v}" for k, v in l.items())
                for l in labels
            ]
        cols = {k: np.ascontiguousarray(v, dtype=np.int64) for k, v in allocatable.items()}
        self._core.apply_node_arrays(list(names), label_text, cols)

    def apply_pod_arrays(
        self,
        names: Sequence[str],
        requests: Mapping[str, Any],
        node_names: Sequence[Optional[str]],
        namespaces: Optional[Sequence[str]] = None,
    ) -> None:
        """Upserts single-container pods from arrays; ``node_names[i]`` is the
        node pod i is bound to ("" or None: pending, not kept)."""
        ns = list(namespaces) if namespaces is not None else ["default"] * len(names)
        nodes = ["" if n is None else n for n in node_names]
        cols = {k: np.ascontiguousarray(v, dtype=np.int64) for k, v in requests.items()}
        self._core.apply_pod_arrays(ns, list(names), nodes, cols)

    def remove_node(self, name: str) -> None:
        self._core.remove_node(name)

    def remove_pod(self, key: str) -> None:
        """Removes a pod by ``namespace/name``."""
        self._core.remove_pod(key)

    @property
    def node_count(self) -> int:
        return self._core.node_count()

    @property
    def pod_count(self) -> int:
        """Pods that count as usage (bound or assumed, not terminal)."""
        return self._core.pod_count()

    def assume(self, snapshot: Snapshot, pod: Pod, node: Union[int, str]) -> None:
        """Records that ``pod`` is placed on ``node`` (kube-scheduler's assume)."""
        if isinstance(node, str):
            node = snapshot.node_index(node)
        self._core.assume(snapshot._core, pod._core, int(node))

    def snapshot(
        self, engine: Any, signals: Any = None, at: Time | None = None, ledger: Any = None
    ) -> Snapshot:
        """Publishes the current state for ``engine`` with carbon ``signals``
        evaluated at ``at`` (default: the signals' newest point). With a
        ``ledger`` (carbonkube.Ledger), each namespace's budget state on that
        day drives the budget hook (docs/carbon-accounting.md)."""
        core = self._core.publish(
            engine._core,
            None if signals is None else signals._core,
            unix_seconds(at),
            None if ledger is None else ledger._core,
        )
        return Snapshot(core, engine)
