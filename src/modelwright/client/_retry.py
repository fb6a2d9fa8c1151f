"""When the client sends a request again: errors worth retrying, and how long to wait."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from modelwright.api.operation import Operation
from modelwright.errors import ServiceUnavailable

__all__ = ["ATTEMPTS", "backoff", "is_transient", "resending"]

Resp = TypeVar("Resp")

# Attempts a transport makes at a request that may be sent again (the first included):
# about three seconds of waiting in all, on top of each attempt's own time.
ATTEMPTS = 5
_BACKOFF_FIRST = 0.2  # seconds before the first retry; doubled up to _BACKOFF_MAX
_BACKOFF_MAX = 30.0


def is_transient(exc: BaseException) -> bool:
    """Whether sending the same request again later may succeed."""
    return isinstance(exc, ServiceUnavailable | ConnectionError | TimeoutError)


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failed attempts in a row: doubling, jittered so
    that many clients do not retry in step."""
    delay: float = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2.0 ** (failures - 1))
    return delay * random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not a secret)


def resending(op: Operation[Any, Resp], req: Any, send: Callable[[], Resp]) -> Resp:
    """``send()``; when it fails with ``ServiceUnavailable`` and ``req`` may be sent again
    (``Operation.may_resend``: it cannot be applied twice), again after a pause, up to
    ``ATTEMPTS`` times. Anything else is sent once: its outcome stays the caller's to find
    out."""
    may_resend = op.may_resend(req)
    failures = 0
    while True:
        try:
            return send()
        except ServiceUnavailable:
            failures += 1
            if not may_resend or failures >= ATTEMPTS:
                raise
            time.sleep(backoff(failures))
