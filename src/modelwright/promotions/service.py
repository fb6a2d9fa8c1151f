"""Promotion operations; the steps their workflow takes are in ``promotions.steps``.

Requesting needs ``promotion.request`` in the target environment and ``data.read`` where the
version comes from; approving or rejecting needs ``promotion.approve`` in the target, and
four eyes: nobody approves a promotion they requested or a version they produced. Reading a
promotion needs ``data.read`` in its source or target. Once every gate has passed, the
platform itself makes the version available in the target and moves the alias: the
requester may hold no right to change the target directly, which is the point of a gate.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import check_scope, get_environment, get_workspace, require_member
from modelwright.core.pages import Page
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.promotions import models as m
from modelwright.promotions._rows import (
    OPEN,
    P,
    copied_into,
    decisions,
    end,
    info,
    promotion_row,
    record,
    sees,
)
from modelwright.promotions.release import check_release
from modelwright.registry.service import available_in
from modelwright.registry.uri import model_uri
from modelwright.store import schema
from modelwright.workflows import signal, start_for
from modelwright.workspaces.policy import PromotionPolicy

__all__ = [
    "approve_promotion",
    "get_promotion",
    "list_promotions",
    "reject_promotion",
    "request_promotion",
]


# -- operations -------------------------------------------------------------------------------
def request_promotion(ctx: Context, req: m.RequestPromotion) -> m.PromotionInfo:
    into = req.to_workspace or req.workspace
    for ws in dict.fromkeys((req.workspace, into)):
        require_member(ctx, ws)
    target = get_environment(ctx, into, req.to)
    ctx.require(Action.PROMOTION_REQUEST, into, target.name)
    version = _version(ctx, get_workspace(ctx, req.workspace), req.model, req.version)
    available = set(available_in(ctx, [version.id])[version.id])
    if target.id in available or copied_into(ctx, version, target):
        raise Conflict(
            f"version {version.version} of model '{req.model}' is available in '{target.name}' "
            "already",
            details={"model": req.model, "version": version.version, "environment": target.name},
        )
    policy = PromotionPolicy.model_validate(target.promotion_policy or {})
    if into == req.workspace:
        source = _source(ctx, target, version, available, req.source, policy)
    else:
        source = _foreign_source(ctx, req.workspace, target, version, available, req, policy)
    ctx.require(Action.DATA_READ, req.workspace, source.name)
    if req.rollout is not None:
        check_release(ctx, target, req.rollout)
    running = ctx.session.scalar(
        select(P.id).where(
            P.version_id == version.id,
            P.target_env_id == target.id,
            P.status.in_(OPEN),
        )
    )
    if running is not None:
        raise Conflict(
            f"promotion {running} of this version to '{target.name}' is under way",
            details={"promotion": running},
        )
    now = utcnow()
    row = P(
        version_id=version.id,
        source_env_id=source.id,
        target_env_id=target.id,
        alias=req.alias,
        status="checking",
        reason=req.reason,
        outcome="",
        requested_by=ctx.caller.name,
        policy=policy.model_dump(mode="json"),
        release=None if req.rollout is None else req.rollout.model_dump(mode="json"),
        gates=[
            m.GateResult(kind=g.kind, status="pending", summary="not checked yet").model_dump(
                mode="json"
            )
            for g in policy.gates
        ],
        created_at=now,
        updated_at=now,
    )
    start_for(
        ctx.session,
        row,
        "promotion",
        "promotion.run",
        started_by=ctx.caller.name,
        workspace=into,
        environment=target.name,
        reason=f"promote {model_uri(version.model.name, version.version)} to {into}/{target.name}",
    )
    record(ctx, row, "promotion.request", "promotion.requested")
    return info(ctx, row)


def list_promotions(ctx: Context, req: m.ListPromotions) -> Page[m.PromotionInfo]:
    """Newest first; only promotions whose source or target the caller may read."""
    # Filters run in SQL, before the limit; only what the caller may see is decided here.
    check_scope(ctx, req.workspace, None)
    query = select(P)
    if req.status is not None:
        query = query.where(P.status == req.status)
    if req.workspace is not None:
        envs = (
            select(schema.Environment.id)
            .join(schema.Workspace, schema.Environment.workspace_id == schema.Workspace.id)
            .where(schema.Workspace.name == req.workspace)
        )
        query = query.where(or_(P.source_env_id.in_(envs), P.target_env_id.in_(envs)))
    if req.model is not None:
        versions = (
            select(schema.ModelVersion.id)
            .join(schema.RegisteredModel, schema.ModelVersion.model_id == schema.RegisteredModel.id)
            .where(schema.RegisteredModel.name == req.model)
        )
        query = query.where(P.version_id.in_(versions))
    rows, token = keyset_page(
        ctx.session,
        query,
        [Key(P.id, descending=True)],
        req,
        scope="promotions",
        visible=lambda row: sees(ctx, row),
    )
    return Page(items=[info(ctx, row) for row in rows], next_page_token=token)


def get_promotion(ctx: Context, req: m.PromotionRef) -> m.PromotionInfo:
    return info(ctx, promotion_row(ctx, req.promotion_id))


def approve_promotion(ctx: Context, req: m.Decide) -> m.PromotionInfo:
    row = _for_decision(ctx, req.promotion_id)
    _decide(ctx, row, "approve", req.comment)
    record(ctx, row, "promotion.approve", "promotion.approved", comment=req.comment)
    return info(ctx, row)


def reject_promotion(ctx: Context, req: m.Reject) -> m.PromotionInfo:
    """Ends the promotion at once; nothing else changes."""
    row = _for_decision(ctx, req.promotion_id)
    _decide(ctx, row, "reject", req.comment)
    end(row, "rejected", f"rejected by {ctx.caller.name}: {req.comment}")
    record(ctx, row, "promotion.reject", "promotion.rejected", comment=req.comment)
    return info(ctx, row)


def _version(ctx: Context, ws: schema.Workspace, model: str, number: int) -> schema.ModelVersion:
    row = ctx.session.scalar(
        select(schema.ModelVersion)
        .join(schema.RegisteredModel)
        .where(
            schema.RegisteredModel.workspace_id == ws.id,
            schema.RegisteredModel.name == model,
            schema.ModelVersion.version == number,
        )
    )
    if row is None:
        raise NotFound(
            f"model '{model}' has no version {number} in workspace '{ws.name}'",
            details={"model": model, "version": number},
        )
    return row


def _source(  # noqa: PLR0917 (one call site)
    ctx: Context,
    target: schema.Environment,
    version: schema.ModelVersion,
    available: set[int],
    named: str | None,
    policy: PromotionPolicy,
) -> schema.Environment:
    path = sorted(target.workspace.environments, key=lambda e: e.position)
    names = " → ".join(e.name for e in path)
    earlier = [e for e in path if e.position < target.position]
    if not earlier:
        raise InvalidInput(
            f"'{target.name}' is the first environment of the path ({names}): nothing is "
            "promoted into it",
            details={"field": "to"},
        )
    if named is not None:
        source = get_environment(ctx, target.workspace.name, named)
        if source.position >= target.position:
            raise InvalidInput(
                f"'{source.name}' does not come before '{target.name}' on the path ({names})",
                details={"field": "source"},
            )
    elif policy.allow_skip:
        candidates = [e for e in earlier if e.id in available]
        source = candidates[-1] if candidates else earlier[-1]
    else:
        source = earlier[-1]
    if source.id not in available:
        raise Conflict(
            f"version {version.version} of model '{version.model.name}' is not available in "
            f"'{source.name}' (registered in '{version.environment.name}'): promote it there first",
            details={"environment": source.name, "version": version.version},
        )
    previous = earlier[-1]
    if source.id != previous.id and not policy.allow_skip:
        raise InvalidInput(
            f"promotions follow the path one step at a time ({names}): promote to "
            f"'{previous.name}' first, or let '{target.name}' be entered from earlier "
            "(promotion.allow_skip in its policy)",
            details={"field": "to", "source": source.name, "next": previous.name},
        )
    return source


def _foreign_source(  # noqa: PLR0917 (one call site)
    ctx: Context,
    workspace: str,
    target: schema.Environment,
    version: schema.ModelVersion,
    available: set[int],
    req: m.RequestPromotion,
    policy: PromotionPolicy,
) -> schema.Environment:
    """The source environment of a promotion into another workspace: named, or the last one of
    the source workspace's path the version is available in; the target's policy must list
    it in ``allow_from``."""
    if req.source is not None:
        source = get_environment(ctx, workspace, req.source)
    else:
        path = sorted(get_workspace(ctx, workspace).environments, key=lambda e: e.position)
        candidates = [e for e in path if e.id in available]
        source = candidates[-1]  # a version is always available where it was registered
    where = f"{target.workspace.name}/{target.name}"
    if f"{workspace}/{source.name}" not in policy.allow_from:
        accepted = ", ".join(policy.allow_from) or "no other workspace"
        raise InvalidInput(
            f"'{where}' does not accept promotions from '{workspace}/{source.name}' (it accepts "
            f"{accepted}; set promotion.allow_from in its policy)",
            details={"field": "to_workspace", "source": f"{workspace}/{source.name}"},
        )
    if source.id not in available:
        raise Conflict(
            f"version {version.version} of model '{version.model.name}' is not available in "
            f"'{workspace}/{source.name}': promote it there first",
            details={"environment": source.name, "version": version.version},
        )
    return source


def _for_decision(ctx: Context, promotion_id: int) -> schema.Promotion:
    row = promotion_row(ctx, promotion_id, lock=True)
    ws, target = row.target.workspace.name, row.target.name
    ctx.require(Action.PROMOTION_APPROVE, ws, target)
    if row.status in m.FINISHED:
        raise Conflict(
            f"promotion {row.id} is {row.status}: it takes no more decisions",
            details={"promotion": row.id, "status": row.status},
        )
    policy = PromotionPolicy.model_validate(row.policy)
    if not any(g.kind == "approval" for g in policy.gates):
        raise Conflict(
            f"promotion {row.id} needs no approval: the policy of '{target}' has no approval gate",
            details={"promotion": row.id},
        )
    me = ctx.caller.name
    producers = {row.version.created_by}
    if row.version.run_id is not None:
        run = ctx.session.get(schema.Run, row.version.run_id)
        if run is not None:
            producers.add(run.created_by)
    if me == row.requested_by or me in producers:
        why = "requested it" if me == row.requested_by else "produced the version"
        raise PermissionDenied(
            f"principal '{me}' {why}, so may not decide on promotion {row.id}: a promotion "
            "needs another pair of eyes",
            details={"rule": "four-eyes", "promotion": row.id, "principal": me},
        )
    if any(d.principal == me for d in decisions(ctx, row)):
        raise Conflict(
            f"principal '{me}' decided on promotion {row.id} already",
            details={"promotion": row.id, "principal": me},
        )
    return row


def _decide(ctx: Context, row: schema.Promotion, decision: str, comment: str) -> None:
    ctx.session.add(
        schema.PromotionDecision(
            promotion_id=row.id,
            principal=ctx.caller.name,
            decision=decision,
            comment=comment,
            at=utcnow(),
        )
    )
    ctx.session.flush()
    row.updated_at = utcnow()
    if row.job_id is not None:
        signal(ctx.session, row.job_id, "decision", {"decision": decision}, sent_by=ctx.caller.name)
