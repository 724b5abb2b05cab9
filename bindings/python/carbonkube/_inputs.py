"""Turning what Python users hold into what the engine reads.

Kubernetes objects and configuration may be given as a dict or list of dicts
(as the ``kubernetes`` client's ``to_dict()`` or ``yaml.safe_load`` give
them), as JSON or YAML text (str or bytes), or as a path to a file given as
an ``os.PathLike`` (``pathlib.Path``): a plain ``str`` is always text.
Times may be a ``datetime`` (naive ones are refused: carbon data is in UTC),
unix seconds, or an RFC 3339 string.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Union

Document = Union[str, bytes, os.PathLike, dict, list]
Time = Union[int, float, str, _dt.datetime]


def document_text(value: Any, what: str) -> tuple[bytes, str]:
    """Returns (text, source name) for a document argument."""
    if isinstance(value, os.PathLike):
        path = os.fspath(value)
        with open(path, "rb") as f:
            return f.read(), path
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, allow_nan=False).encode(), what
        except (TypeError, ValueError) as e:
            raise TypeError(f"{what}: cannot be written as JSON: {e}") from None
    if isinstance(value, bytes):
        return value, what
    if isinstance(value, str):
        return value.encode(), what
    raise TypeError(
        f"{what}: expected a dict, a list, JSON/YAML text or a path, got {type(value).__name__}"
    )


def unix_seconds(value: Time | None, what: str = "at") -> int:
    """0 for None (the engine's 'newest point'), else unix seconds."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise TypeError(f"{what}: expected a time, got bool")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"{what}: naive datetime {value!r}; give a timezone (UTC)")
        return int(value.timestamp())
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{what}: {value} is not a time")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        try:
            parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what}: {value!r} is not an RFC 3339 time") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{what}: {value!r} has no time zone (add Z for UTC)")
        return int(parsed.timestamp())
    raise TypeError(f"{what}: expected datetime, unix seconds or RFC 3339, got {type(value).__name__}")
