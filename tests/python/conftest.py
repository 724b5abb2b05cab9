"""Shared fixtures: the repository's bundled example and data."""

from __future__ import annotations

import pathlib

import pytest

import carbonkube as ck

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE_SIGNALS = [
    REPO / "data/carbon/electricitymaps" / f"{z}_2023_hourly.csv" for z in ("US-CAL-CISO", "ES", "NO")
]
EXAMPLE_AT = "2023-07-15T18:00:00Z"


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO


@pytest.fixture(scope="session")
def example_engine() -> ck.Engine:
    return ck.Engine(zones=REPO / "examples/config/zones.yaml")


@pytest.fixture(scope="session")
def example_signals() -> ck.Signals:
    return ck.Signals.from_files(*EXAMPLE_SIGNALS)


@pytest.fixture()
def example_cluster() -> ck.Cluster:
    cluster = ck.Cluster()
    for name in ("nodes.json", "pods.yaml", "cnrs.yaml"):
        cluster.apply(REPO / "examples/cluster" / name)
    return cluster
