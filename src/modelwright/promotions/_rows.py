"""A promotion's row: finding it, ending it, recording its changes and rendering it (shared
by the operations and the workflow's steps)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.models import from_row
from modelwright.errors import NotFound
from modelwright.promotions import models as m
from modelwright.registry.uri import model_uri
from modelwright.store import schema

__all__ = [
    "OPEN",
    "P",
    "copied_into",
    "decisions",
    "end",
    "info",
    "locked",
    "promoted_number",
    "promotion_row",
    "record",
    "sees",
    "uri",
]

# A promotion whose gates are still being judged.
OPEN = ("checking", "awaiting_approval")

P = schema.Promotion


def copied_into(ctx: Context, version: schema.ModelVersion, target: schema.Environment) -> bool:
    """Whether another workspace's target holds this version already (a promoted copy)."""
    if target.workspace_id == version.model.workspace_id:
        return False
    found = ctx.session.scalar(
        select(schema.ModelVersion.id)
        .join(schema.RegisteredModel)
        .join(
            schema.ModelVersionEnvironment,
            schema.ModelVersionEnvironment.version_id == schema.ModelVersion.id,
        )
        .where(
            schema.RegisteredModel.workspace_id == target.workspace_id,
            schema.RegisteredModel.name == version.model.name,
            schema.ModelVersion.digest == version.digest,
            schema.ModelVersionEnvironment.environment_id == target.id,
        )
        .limit(1)
    )
    return found is not None


def promoted_number(ctx: Context, row: schema.Promotion) -> int | None:
    if row.status != "promoted" or row.result_version_id is None:
        return None
    version = ctx.session.get(schema.ModelVersion, row.result_version_id)
    return None if version is None else version.version


def promotion_row(ctx: Context, promotion_id: int, *, lock: bool = False) -> schema.Promotion:
    query = select(P).where(P.id == promotion_id)
    if lock:
        query = query.with_for_update()
    row = ctx.session.scalar(query)
    if row is None or not sees(ctx, row):
        raise NotFound(f"promotion {promotion_id} not found", details={"promotion": promotion_id})
    return row


def locked(ctx: Context, promotion_id: int) -> schema.Promotion:
    row = ctx.session.scalar(select(P).where(P.id == promotion_id).with_for_update())
    if row is None:
        raise NotFound(f"promotion {promotion_id} not found", details={"promotion": promotion_id})
    return row


def sees(ctx: Context, row: schema.Promotion) -> bool:
    return ctx.allowed(Action.DATA_READ, row.target.workspace.name, row.target.name) or (
        ctx.allowed(Action.DATA_READ, row.source.workspace.name, row.source.name)
    )


def decisions(ctx: Context, row: schema.Promotion) -> list[schema.PromotionDecision]:
    return list(
        ctx.session.scalars(
            select(schema.PromotionDecision)
            .where(schema.PromotionDecision.promotion_id == row.id)
            .order_by(schema.PromotionDecision.id)
        )
    )


def end(row: schema.Promotion, status: str, outcome: str) -> None:
    now = utcnow()
    row.status, row.outcome, row.updated_at, row.finished_at = status, outcome, now, now


def uri(row: schema.Promotion) -> str:
    return model_uri(row.version.model.name, row.version.version)


def record(ctx: Context, row: schema.Promotion, action: str, event: str, **extra: Any) -> None:
    ws = row.target.workspace.name
    state = {"status": row.status, "outcome": row.outcome, **extra}
    ctx.audit(
        action,
        workspace=ws,
        environment=row.target.name,
        target=f"promotion:{row.id}",
        after={"model": uri(row), "from": row.source.name, "to": row.target.name, **state},
    )
    ctx.event(
        event,
        workspace=ws,
        environment=row.target.name,
        subject=f"promotion/{row.id}",
        data={
            "promotion": row.id,
            "model": row.version.model.name,
            "version": row.version.version,
            "from": row.source.name,
            "to": row.target.name,
            "status": row.status,
        },
    )


def info(ctx: Context, row: schema.Promotion) -> m.PromotionInfo:
    ctx.session.flush()
    return from_row(
        m.PromotionInfo,
        row,
        workspace=row.version.model.workspace.name,
        model=row.version.model.name,
        version=row.version.version,
        uri=uri(row),
        source=row.source.name,
        target=row.target.name,
        target_workspace=row.target.workspace.name,
        promoted_version=promoted_number(ctx, row),
        rollout=row.release,
        decisions=[from_row(m.DecisionInfo, d) for d in decisions(ctx, row)],
    )
