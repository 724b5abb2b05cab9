"""Carbon intensity per grid zone, loaded from the formats users have.

``Signals`` holds history and forecast points per zone, each tagged with its
kind (average or marginal; direct or life-cycle). Loading is atomic: a file
with an error adds nothing. Fetching over the network is the host's job;
here you pass the provider's response text or file.
"""

from __future__ import annotations

import enum
import os
from typing import Any, Optional, Union

import numpy as np

from . import _core
from ._inputs import Time, unix_seconds

__all__ = ["Format", "Kind", "Signals"]


class Format(enum.IntEnum):
    """Carbon data formats (``ck_signal_format``)."""

    ELECTRICITYMAPS_CSV = 0  #: Electricity Maps data-portal CSV
    ELECTRICITYMAPS_JSON = 1  #: Electricity Maps API v3 latest / history / forecast
    WATTTIME = 2  #: WattTime v3 forecast / historical (lbs/MWh converted)
    UK_CARBON_INTENSITY = 3  #: api.carbonintensity.org.uk
    CARBON_AWARE_SDK = 4  #: Carbon Aware SDK WebAPI

    @classmethod
    def parse(cls, name: Union[str, "Format"]) -> "Format":
        if isinstance(name, Format):
            return name
        key = str(name).replace("-", "_").upper()
        aliases = {"ELECTRICITYMAPS": "ELECTRICITYMAPS_JSON", "UK": "UK_CARBON_INTENSITY"}
        key = aliases.get(key, key)
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(f.name.lower().replace("_", "-") for f in cls)
            raise ValueError(f"unknown carbon data format {name!r}; one of: {names}, auto") from None


class Kind(enum.IntEnum):
    """What an intensity measures (``ck_intensity_kind``); never mixed in one score."""

    AVERAGE_DIRECT = 0
    AVERAGE_LIFECYCLE = 1
    MARGINAL_DIRECT = 2
    MARGINAL_LIFECYCLE = 3


def detect_format(text: bytes, name: str) -> Format:
    """The library's one rule (``ck_signals_detect_format``, the CLI's too):
    a ``.csv`` name or the portal CSV's header, then the keys the JSON
    carries. Raises InvalidInputError when nothing matches; pass format=."""
    return Format(_core.detect_signal_format(text, name))


class Signals:
    """Carbon intensity series per zone. One writer at a time; snapshots
    published from it keep their own view, so later loads never disturb them."""

    def __init__(self) -> None:
        self._core = _core.Signals()

    @classmethod
    def from_files(cls, *paths: Union[str, os.PathLike], **kwargs: Any) -> "Signals":
        s = cls()
        for p in paths:
            s.load(p, **kwargs)
        return s

    def load(
        self,
        source: Union[str, bytes, os.PathLike],
        format: Union[str, Format] = "auto",
        *,
        kind: Optional[Kind] = None,
        name: Optional[str] = None,
    ) -> int:
        """Loads a file (path) or a response body (str/bytes). For the CSV,
        ``kind`` picks the column (default life-cycle average); for the
        Carbon Aware SDK it states the data's kind. Returns the number of
        points skipped for having no value."""
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and os.path.exists(source)
        ):
            path = os.fspath(source)
            with open(path, "rb") as f:
                text = f.read()
            label = name or path
        elif isinstance(source, (str, bytes)):
            text = source.encode() if isinstance(source, str) else source
            label = name or "<signals>"
        else:
            raise TypeError(f"signals: expected a path, str or bytes, got {type(source).__name__}")
        fmt = detect_format(text, label) if format == "auto" else Format.parse(format)
        k = -1 if kind is None else int(Kind(kind))
        if fmt == Format.ELECTRICITYMAPS_CSV and kind is None:
            k = int(Kind.AVERAGE_LIFECYCLE)
        return self._core.load(text, int(fmt), label, k)

    def add_points(
        self,
        zone: str,
        times: Any,
        values: Any,
        *,
        kind: Kind = Kind.AVERAGE_LIFECYCLE,
        estimated: Any = None,
    ) -> None:
        """Adds history points from arrays: unix seconds (or datetime64) and
        g/kWh. Every value must be finite and >= 0."""
        t = np.asarray(times)
        if np.issubdtype(t.dtype, np.datetime64):
            t = t.astype("datetime64[s]").astype(np.int64)
        self._core.add_points(
            zone,
            int(Kind(kind)),
            np.ascontiguousarray(t, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            None if estimated is None else np.ascontiguousarray(estimated, dtype=bool),
        )

    @property
    def zone_count(self) -> int:
        return self._core.zone_count()

    @property
    def newest_time(self) -> int:
        """The newest point's unix time over all zones (0 without points)."""
        return self._core.newest_time()

    def forecast(
        self, zone: str, issue_time: Time, hours: int = 24, model: str = "ridge"
    ) -> np.ndarray:
        """The zone's hourly intensity for ``hours`` (1..168) from
        ``issue_time`` (a UTC hour boundary), forecast from the history
        before it: ``"seasonal-naive"``, ``"ridge"``, or ``"perfect"`` (the
        recorded values: the perfect-knowledge bound)."""
        models = {"seasonal-naive": 0, "ridge": 1, "perfect": 2}
        if model not in models:
            raise ValueError(f"unknown forecast model {model!r}; one of {sorted(models)}")
        return self._core.forecast(zone, unix_seconds(issue_time, "issue_time"), int(hours), models[model])

    def evaluate(self, engine: Any, zone: str, at: Time | None = None) -> dict:
        """The engine's staleness and plausibility policy applied to ``zone``
        at ``at``: ``{"usable", "status", "g_per_kwh", "age_seconds", ...}``."""
        return self._core.evaluate(engine._core, zone, unix_seconds(at))
