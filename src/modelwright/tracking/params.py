"""Params are immutable: the one check of a param logged again, run by the platform against
the params it stores and by the client against those it logged and has not sent yet, so a
change is the same error within one flush interval as across flushes."""

from __future__ import annotations

from collections.abc import Mapping

from modelwright.errors import Conflict

__all__ = ["check_unchanged"]


def check_unchanged(run_id: str, logged: Mapping[str, str], params: Mapping[str, str]) -> None:
    """Raise ``Conflict`` if ``params`` give a key of ``logged`` another value."""
    for key, value in params.items():
        old = logged.get(key)
        if old is not None and old != value:
            raise Conflict(
                f"param '{key}' of run '{run_id}' is already {old!r}; params are "
                f"immutable (got {value!r}) — log a tag or a new run instead",
                details={"run_id": run_id, "key": key},
            )
