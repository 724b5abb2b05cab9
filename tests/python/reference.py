"""Plain-Python reference of kube-scheduler's resource scoring (v1.34,
pkg/scheduler/framework/plugins/noderesources), written from its published
formulas for the property tests: pods here always request cpu and memory,
so the non-zero defaults never apply."""

from __future__ import annotations

from dataclasses import dataclass

MAX_NODE_SCORE = 100


@dataclass
class Node:
    cpu: int  # millicores
    memory: int  # bytes
    pods: int
    used_cpu: int = 0
    used_memory: int = 0
    used_pods: int = 0


def fits(node: Node, cpu: int, memory: int) -> bool:
    return (
        node.used_pods + 1 <= node.pods
        and node.used_cpu + cpu <= node.cpu
        and node.used_memory + memory <= node.memory
    )


def least_allocated(requested: int, capacity: int) -> int:
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


def most_allocated(requested: int, capacity: int) -> int:
    if capacity == 0:
        return 0
    return min(requested, capacity) * MAX_NODE_SCORE // capacity


def fit_score(node: Node, cpu: int, memory: int, strategy: str, w_cpu: int, w_mem: int) -> int:
    f = least_allocated if strategy == "LeastAllocated" else most_allocated
    s = f(node.used_cpu + cpu, node.cpu) * w_cpu + f(node.used_memory + memory, node.memory) * w_mem
    return s // (w_cpu + w_mem)


def balanced_score(node: Node, cpu: int, memory: int) -> int:
    fractions = []
    for req, cap in ((node.used_cpu + cpu, node.cpu), (node.used_memory + memory, node.memory)):
        if cap == 0:
            continue
        fractions.append(min(req / cap, 1.0))
    std = abs((fractions[0] - fractions[1]) / 2) if len(fractions) == 2 else 0.0
    return int((1 - std) * MAX_NODE_SCORE)
