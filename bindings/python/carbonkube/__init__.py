"""carbonkube: carbon-, QoS- and topology-aware placement and sizing for
Kubernetes, with kube-scheduler's scoring semantics.

The compiled engine (C++, through its stable C ABI) does the work; this
package is its Python face::

    import carbonkube as ck
    engine = ck.Engine(zones=pathlib.Path("examples/config/zones.yaml"))
    signals = ck.Signals.from_files("data/carbon/electricitymaps/ES_2023_hourly.csv")
    cluster = ck.Cluster(pathlib.Path("examples/cluster/nodes.json"))
    snap = cluster.snapshot(engine, signals, at="2023-07-15T18:00:00Z")
    result = engine.score(snap, pod_dict)
    result.selected, result.scores(result.selected)
"""

from __future__ import annotations

from . import _core
from .allocator import (
    CarbonAwareResourceAllocator,
    CarbonBudget,
    ResourceAllocation,
    SLARequirements,
    WorkloadProfile,
    signals_carbon_source,
)
from .cluster import READING_STATUS, Cluster, Pod, PodList, Snapshot
from .engine import NODE_STATES, BatchResult, Context, Engine, Reconciler, ScoreResult
from .errors import (
    Error,
    InternalError,
    InvalidArgumentError,
    InvalidInputError,
    LimitExceededError,
    MismatchError,
    NotFoundError,
    _BY_STATUS,
)
from .ledger import (
    BudgetAction,
    BudgetAdvice,
    BudgetStatus,
    CarbonTotals,
    Ledger,
    Scope,
    budget_advice,
    sci,
)
from .metrics import Metrics
from .migration import Candidate, MigrationAdvisor, Recommendation
from .planner import Plan, plan
from .signals import Format, Kind, Signals
from .simulator import POLICIES, load_trace, simulate

_core._set_error_classes(_BY_STATUS)

__version__: str = _core.version

__all__ = [
    "BudgetAction",
    "BudgetAdvice",
    "BudgetStatus",
    "Candidate",
    "CarbonTotals",
    "Ledger",
    "Metrics",
    "MigrationAdvisor",
    "Recommendation",
    "Scope",
    "budget_advice",
    "sci",
    "CarbonAwareResourceAllocator",
    "CarbonBudget",
    "ResourceAllocation",
    "SLARequirements",
    "WorkloadProfile",
    "BatchResult",
    "Cluster",
    "Context",
    "Engine",
    "Error",
    "Format",
    "InternalError",
    "InvalidArgumentError",
    "InvalidInputError",
    "Kind",
    "LimitExceededError",
    "MismatchError",
    "NODE_STATES",
    "NotFoundError",
    "Plan",
    "Pod",
    "PodList",
    "READING_STATUS",
    "Reconciler",
    "ScoreResult",
    "Signals",
    "Snapshot",
    "__version__",
    "POLICIES",
    "load_trace",
    "simulate",
    "plan",
    "signals_carbon_source",
]
