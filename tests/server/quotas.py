"""Upload quotas named by ``MODELWRIGHT_UPLOAD_QUOTA`` in the tests ("tests.server.quotas:...")."""

from __future__ import annotations

from modelwright.errors import QuotaExceeded

CALLS: list[tuple[str, int]] = []


def at_most_100_bytes(principal: str, size: int) -> None:
    CALLS.append((principal, size))
    if size > 100:
        raise QuotaExceeded(
            f"object: {principal} may upload at most 100 bytes (this one has {size})",
            details={"principal": principal, "size": size, "quota": 100},
        )


NOT_CALLABLE = 42
