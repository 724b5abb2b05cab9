"""The simulator from Python: the same numbers as the CLI on the same
inputs, the oracle bound, zero slack equal to the baseline, and errors."""

from __future__ import annotations

import csv
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import carbonkube as ck
from conftest import REPO

S = REPO / "data/carbon/electricitymaps"
ZONES = ["ES", "NO"]


@pytest.fixture(scope="module")
def signals() -> ck.Signals:
    return ck.Signals.from_files(S / "ES_2023_hourly.csv", S / "NO_2023_hourly.csv")


@pytest.fixture(scope="module")
def trace() -> dict:
    full = ck.load_trace(REPO / "data/workloads/azure-100k.csv")
    keep = slice(0, 3000)  # the first weeks of the year
    return {k: v[keep] for k, v in full.items()}


def test_matches_the_cli(signals, trace, tmp_path):
    path = tmp_path / "trace.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arrival_time", "length", "cpus"])
        for a, l, c in zip(trace["arrival_hours"], trace["length_hours"], trace["cpus"]):
            w.writerow([repr(float(a)), repr(float(l)), repr(float(c))])
    exe = pathlib.Path(sys.executable).parent / "carbonkube"
    out = tmp_path / "out"
    subprocess.run([str(exe), "simulate", "--trace", str(path), "--signals", str(S / "ES_2023_hourly.csv"),
                    "--signals", str(S / "NO_2023_hourly.csv"), "--slack-sweep", "none", "--out", str(out)],
                   check=True, capture_output=True, text=True)
    with open(out / "summary.csv") as f:
        cli = {row["policy"]: row for row in csv.DictReader(f)}
    py = {r["policy"]: r for r in ck.simulate(signals, path, ZONES)}
    assert set(py) == set(ck.POLICIES)
    for name, r in py.items():
        assert r["kg"] == pytest.approx(float(cli[name]["kg"]), rel=1e-6), name


def test_oracle_bound_and_zero_slack(signals, trace):
    r = {x["policy"]: x for x in ck.simulate(signals, trace, ZONES, policies=["baseline", "temporal", "temporal-oracle"])}
    assert r["temporal-oracle"]["kg"] <= r["temporal"]["kg"] * (1 + 1e-9)
    assert r["temporal"]["saved_percent"] > 0 and 0 < r["temporal"]["oracle_fraction"] <= 1.0 + 1e-9
    assert r["baseline"]["jobs"] == r["temporal"]["jobs"] == len(trace["cpus"]) - r["baseline"]["excluded"]
    z = {x["policy"]: x for x in ck.simulate(signals, trace, ZONES, policies=["baseline", "temporal"], slack_hours=0)}
    assert z["temporal"]["kg"] == pytest.approx(z["baseline"]["kg"], rel=1e-12)


def test_errors(signals, trace):
    with pytest.raises(ck.InvalidInputError):
        ck.simulate(signals, trace, ["ES", "MARS"])
    with pytest.raises(ValueError, match="unknown policy"):
        ck.simulate(signals, trace, ZONES, policies=["greenest"])
    with pytest.raises(ValueError, match="one length"):
        ck.simulate(signals, {"arrival_hours": np.zeros(2), "length_hours": np.ones(3), "cpus": np.ones(2)}, ZONES)
    with pytest.raises(ck.InvalidInputError):
        ck.load_trace(REPO / "README.md")
