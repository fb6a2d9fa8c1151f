"""Ground-truth labels of an endpoint's captured requests, keyed by request id.

Labels belong to the endpoint (every monitor of it reads them). Writing them needs
``data.write`` in the environment; reading them, what reading the monitor needs. A label for a
request id the capture does not hold is stored all the same, because labels often arrive
before the capture file holding their request is flushed, and counted as ``unknown`` in the
answer; evaluations report the labels that still match no captured request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import ge, le
from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.filters import where_given
from modelwright.core.models import from_row
from modelwright.errors import InvalidInput
from modelwright.monitors import label_models as lm
from modelwright.monitors.capture import captured_ids
from modelwright.monitors.service import monitor_row
from modelwright.store import schema

__all__ = ["log_labels", "query_labels"]

L = schema.Label
_CHUNK = 500  # request ids per IN (...) clause
_EXAMPLES = 10


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def log_labels(ctx: Context, req: lm.LogLabels) -> lm.LabelsLogged:
    row = monitor_row(ctx, req)
    ctx.require(Action.DATA_WRITE, req.workspace, req.environment)
    endpoint = row.endpoint
    if endpoint is None:
        raise InvalidInput(
            f"monitor '{row.name}' watches the dataset series '{row.dataset}': labels are keyed "
            "by the request ids of an endpoint's capture",
            details={"field": "name", "monitor": row.name},
        )
    given: dict[str, Any] = {r.request_id: r.label for r in req.labels}  # the last one wins
    ids = list(given)
    existing: dict[str, schema.Label] = {}
    for chunk in _chunks(ids):
        for label in ctx.session.scalars(
            select(L).where(L.endpoint_id == row.endpoint_id, L.request_id.in_(chunk))
        ):
            existing[label.request_id] = label
    now = utcnow()
    for request_id, value in given.items():
        found = existing.get(request_id)
        if found is None:
            ctx.session.add(
                L(
                    endpoint_id=row.endpoint_id,
                    request_id=request_id,
                    label=value,
                    received_at=now,
                    received_by=ctx.caller.name,
                )
            )
        else:
            found.label, found.received_at, found.received_by = value, now, ctx.caller.name
    env = row.environment
    known = captured_ids(env.datastores[0].url, endpoint.name, ids) if env.datastores else set()
    unknown = [i for i in ids if i not in known]
    answer = lm.LabelsLogged(
        monitor=row.name,
        received=len(ids),
        stored=len(ids) - len(existing),
        replaced=len(existing),
        unknown=len(unknown),
        unknown_examples=unknown[:_EXAMPLES],
    )
    ctx.session.flush()
    counts = answer.model_dump(exclude={"unknown_examples"})
    ctx.audit(
        "monitor.labels",
        workspace=env.workspace.name,
        environment=env.name,
        target=f"endpoint:{endpoint.name}",
        after=counts,
    )
    return answer


def query_labels(ctx: Context, req: lm.QueryLabels) -> list[lm.LabelInfo]:
    """Labels of the monitor's endpoint, oldest received first."""
    row = monitor_row(ctx, req)
    q = select(L).where(L.endpoint_id == row.endpoint_id)
    if req.request_ids is not None:
        q = q.where(L.request_id.in_(req.request_ids))
    q = where_given(
        q,
        (L.received_at, ge, req.received_since),
        (L.received_at, le, req.received_until),
    )
    return [
        from_row(lm.LabelInfo, r)
        for r in ctx.session.scalars(q.order_by(L.received_at, L.id).limit(req.limit))
    ]
