"""Writes applied once however often they arrive.

A client that sends a write again (after a timeout, a dropped connection, a database that
was unavailable) cannot know whether the first attempt was applied: the server may have
committed it just after the client gave up. Such writes carry an idempotency key, made by the
client once per write. The key is claimed at the start of the write's transaction and its
answer recorded before the commit, so the write and the key commit together or not at all:
a repeat of the key returns the recorded answer and applies nothing. A repeat that arrives
while the first attempt is still running waits for it (the claim is a unique row).

Keys belong to the principal that sent them and are deleted after
``Settings.idempotency_retention_hours`` (``Platform`` sweeps them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from pydantic import TypeAdapter
from sqlalchemy import Table, bindparam, select, update

from modelwright.core.context import Context, utcnow
from modelwright.errors import Conflict, ServiceUnavailable
from modelwright.store import schema
from modelwright.store.db import insert_one_missing

__all__ = ["apply_once"]

Resp = TypeVar("Resp")

_KEYS = cast(Table, schema.IdempotencyKey.__table__)
_RECORD = (
    update(_KEYS)
    .where(_KEYS.c.principal_id == bindparam("p"), _KEYS.c.key == bindparam("k"))
    .values(response=bindparam("response"))
)


def apply_once(
    ctx: Context,
    key: str,
    *,
    operation: str,
    target: str,
    apply: Callable[[], Resp],
    answer: TypeAdapter[Resp],
) -> Resp:
    """``apply()``, unless the caller sent ``key`` before: then the answer it got then."""
    who = _KEYS.c.principal_id == ctx.caller.principal_id
    claimed = insert_one_missing(
        ctx.session,
        _KEYS,
        {
            "principal_id": ctx.caller.principal_id,
            "key": key,
            "operation": operation,
            "target": target,
            "response": None,
            "created_at": utcnow(),
        },
    )
    if not claimed:
        row = ctx.session.execute(
            select(_KEYS.c.operation, _KEYS.c.target, _KEYS.c.response).where(
                who, _KEYS.c.key == key
            )
        ).one()
        if (row.operation, row.target) != (operation, target):
            raise Conflict(
                f"idempotency_key: '{key}' was used for another request ({row.operation} "
                f"{row.target}); make a new key for each write",
                details={"field": "idempotency_key"},
            )
        if row.response is None:  # only a transaction of its own could see that
            raise ServiceUnavailable(
                f"idempotency_key: the first request with '{key}' is still being applied; retry",
                details={"field": "idempotency_key"},
            )
        return answer.validate_json(row.response)
    result = apply()
    response = answer.dump_json(result, by_alias=True).decode()
    ctx.session.connection().execute(
        _RECORD, {"p": ctx.caller.principal_id, "k": key, "response": response}
    )
    return result
