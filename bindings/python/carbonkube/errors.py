"""carbonkube's exceptions: one class per status of the C ABI.

Every error carries the engine's message, which names the input, the object
and the field at fault. ``InvalidInputError`` is also a ``ValueError`` and
``NotFoundError`` a ``LookupError``, so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "Error",
    "InvalidArgumentError",
    "InvalidInputError",
    "LimitExceededError",
    "NotFoundError",
    "MismatchError",
    "InternalError",
]


class Error(Exception):
    """Base class of every error the carbonkube engine raises."""


class InvalidArgumentError(Error, ValueError):
    """An argument is missing or of the wrong shape (a caller bug)."""


class InvalidInputError(Error, ValueError):
    """Malformed YAML/JSON, or a bad value in it (the message names it)."""


class LimitExceededError(InvalidInputError):
    """An input is larger than a configured limit (the message names it)."""


class NotFoundError(Error, LookupError):
    """An unknown node, pod, profile or zone."""


class MismatchError(Error, ValueError):
    """Objects that do not belong together, e.g. a pod compiled for another snapshot."""


class InternalError(Error, RuntimeError):
    """A bug in carbonkube: please report it with the message."""


# ck_status values (capi/carbonkube.h pins them).
_BY_STATUS = {
    1: InvalidArgumentError,
    2: InvalidInputError,
    3: LimitExceededError,
    4: NotFoundError,
    5: InternalError,  # CK_ERROR_BUFFER_TOO_SMALL: the binding sizes every buffer
    6: MismatchError,
    7: MemoryError,
    8: InternalError,
}
