"""Parse the times users type: ISO 8601 (``2026-11-25T10:00Z``) or "ago" (``30m``, ``2h``, ``7d``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from modelwright.errors import InvalidInput

__all__ = ["parse_duration", "parse_expiry", "parse_time"]

_AGO = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(value: str) -> timedelta | None:
    match = _AGO.fullmatch(value.strip())
    if match is None:
        return None
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


def parse_duration(value: str, option: str) -> timedelta:
    """A length of time such as ``30s``, ``5m``, ``1h``, ``7d``."""
    length = _duration(value)
    if length is None or length <= timedelta(0):
        raise InvalidInput(
            f"{option}: expected a duration such as 30s, 5m, 1h, 7d (got {value!r})",
            details={"field": option},
        )
    return length


def parse_time(value: str | None, option: str) -> datetime | None:
    """A point in the past: an ISO time, or an age such as ``2h`` (two hours ago)."""
    if value is None:
        return None
    age = _duration(value)
    if age is not None:
        return datetime.now(UTC) - age
    return _iso(value, option)


def parse_expiry(value: str | None, option: str) -> datetime | None:
    """A point in the future: an ISO time, or a duration such as ``30d`` (thirty days from now)."""
    if value is None:
        return None
    ahead = _duration(value)
    if ahead is not None:
        return datetime.now(UTC) + ahead
    return _iso(value, option)


def _iso(value: str, option: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{option}: expected an ISO 8601 time (2026-11-25T10:00Z) or an age such as 30m, "
            f"2h, 7d (got {value!r})",
            details={"field": option},
        ) from None
    # A time without an offset is taken as UTC, the platform's clock.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
