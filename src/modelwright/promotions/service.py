"""Promotion operations, and the steps their workflow takes (``promotions.workflow``).

Requesting needs ``promotion.request`` in the target environment and ``data.read`` where the
version comes from; approving or rejecting needs ``promotion.approve`` in the target, and
four eyes: nobody approves a promotion they requested or a version they produced. Reading a
promotion needs ``data.read`` in its source or target. Once every gate has passed, the
platform itself makes the version available in the target and moves the alias: the
requester may hold no right to change the target directly, which is the point of a gate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import get_environment, get_workspace, require_member
from modelwright.core.pages import Page
from modelwright.errors import Conflict, InvalidInput, ModelwrightError, NotFound, PermissionDenied
from modelwright.promotions import models as m
from modelwright.promotions.gates import check_metric, check_policy, judge
from modelwright.promotions.release import check_release, make_available, start_release, withdraw
from modelwright.promotions.smoke import judge_smoke
from modelwright.registry.service import available_in, move_alias
from modelwright.registry.uri import ModelRef, model_uri
from modelwright.rollouts.models import RolloutPlan
from modelwright.store import schema
from modelwright.workflows import signal, start
from modelwright.workspaces.policy import (
    ApprovalGate,
    ChampionGate,
    EvaluationGate,
    PromotionPolicy,
    SmokeGate,
    parse_threshold,
)

__all__ = [
    "approval_state",
    "approve_promotion",
    "begin_release",
    "evaluation_plan",
    "finish_promotion",
    "gates_unjudged",
    "get_promotion",
    "list_promotions",
    "record_evaluation",
    "record_smoke",
    "reject_promotion",
    "release_state",
    "request_promotion",
    "run_checks",
    "smoke_plan",
]

# The steps of the workflow that judge gates in order, with the gate kinds each one judges.
_STEPS = {
    "gates": ("metric", "policy"),
    "evaluate": ("evaluation", "champion"),
    "smoke": ("smoke",),
}

P = schema.Promotion


# -- operations -------------------------------------------------------------------------------
def request_promotion(ctx: Context, req: m.RequestPromotion) -> m.PromotionInfo:
    into = req.to_workspace or req.workspace
    for ws in dict.fromkeys((req.workspace, into)):
        require_member(ctx, ws)
    target = get_environment(ctx.session, into, req.to)
    ctx.require(Action.PROMOTION_REQUEST, into, target.name)
    version = _version(ctx, get_workspace(ctx.session, req.workspace), req.model, req.version)
    available = set(available_in(ctx, [version.id])[version.id])
    if target.id in available or _copied_into(ctx, version, target):
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
            P.status.in_(("checking", "awaiting_approval")),
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
    ctx.session.add(row)
    ctx.session.flush()
    row.job_id = start(
        ctx.session,
        "promotion.run",
        {"promotion_id": row.id},
        started_by=ctx.caller.name,
        workspace=into,
        environment=target.name,
        reason=f"promote {_uri(row)} to {into}/{target.name}",
        key=f"promotion:{row.id}",
    )
    _record(ctx, row, "promotion.request", "promotion.requested")
    return _info(ctx, row)


def list_promotions(ctx: Context, req: m.ListPromotions) -> Page[m.PromotionInfo]:
    """Newest first; only promotions whose source or target the caller may read."""
    # Filters run in SQL, before the limit; only what the caller may see is decided here.
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
        visible=lambda row: _sees(ctx, row),
    )
    return Page(items=[_info(ctx, row) for row in rows], next_page_token=token)


def get_promotion(ctx: Context, req: m.PromotionRef) -> m.PromotionInfo:
    return _info(ctx, _promotion(ctx, req.promotion_id))


def approve_promotion(ctx: Context, req: m.Decide) -> m.PromotionInfo:
    row = _for_decision(ctx, req.promotion_id)
    _decide(ctx, row, "approve", req.comment)
    _record(ctx, row, "promotion.approve", "promotion.approved", comment=req.comment)
    return _info(ctx, row)


def reject_promotion(ctx: Context, req: m.Reject) -> m.PromotionInfo:
    """Ends the promotion at once; nothing else changes."""
    row = _for_decision(ctx, req.promotion_id)
    _decide(ctx, row, "reject", req.comment)
    _end(row, "rejected", f"rejected by {ctx.caller.name}: {req.comment}")
    _record(ctx, row, "promotion.reject", "promotion.rejected", comment=req.comment)
    return _info(ctx, row)


# -- the workflow's steps ---------------------------------------------------------------------
def run_checks(ctx: Context, promotion_id: int) -> str:
    """The gates that need nobody: the next step (``"evaluate"``, ``"smoke"``,
    ``"approval"``, or ``"apply"`` when nothing is left), or ``"stop"`` when a gate failed or
    the promotion ended meanwhile."""
    row = _locked(ctx, promotion_id)
    if row.status not in ("checking", "awaiting_approval"):
        return "stop"
    policy = PromotionPolicy.model_validate(row.policy)
    results = [m.GateResult.model_validate(g) for g in row.gates]
    for i, gate in enumerate(policy.gates):
        if gate.kind == "metric":
            results[i] = check_metric(ctx, row.version, gate)
        elif gate.kind == "policy":
            results[i] = check_policy(ctx, row.version, gate)
    row.gates = [r.model_dump(mode="json") for r in results]
    if _failed(ctx, row, results):
        return "stop"
    return _next(ctx, row, policy, "gates")


def evaluation_plan(ctx: Context, promotion_id: int) -> dict[str, Any]:
    """What the evaluation and champion gates score, for the child process that loads the
    models: the candidate, the target's champion, on holdouts read in the target."""
    row = _locked(ctx, promotion_id)
    policy = PromotionPolicy.model_validate(row.policy)
    name, target = row.version.model.name, row.target.name
    scorings = []
    for i, gate in enumerate(policy.gates):
        if isinstance(gate, EvaluationGate):
            metrics = [parse_threshold(t).metric for t in gate.require]
            champion = None
        elif isinstance(gate, ChampionGate):
            metrics = [gate.metric]
            champion = str(ModelRef(name=name, alias=gate.alias, environment=target))
        else:
            continue
        scorings.append(
            {
                "gate": str(i),
                "dataset": gate.dataset,
                "label": gate.label,
                "metrics": metrics,
                "candidate": _uri(row),
                # The candidate's workspace: another one than the target's across workspaces.
                "candidate_workspace": row.version.model.workspace.name,
                "champion": champion,
            }
        )
    return {"scorings": scorings}


def record_evaluation(ctx: Context, promotion_id: int, scores: dict[str, Any]) -> str:
    """The evaluation and champion gates' results from the scores: ``stop`` when one
    failed, else what comes next (``smoke``, ``approval`` or ``apply``)."""
    row = _locked(ctx, promotion_id)
    if row.status not in ("checking", "awaiting_approval"):
        return "stop"
    policy = PromotionPolicy.model_validate(row.policy)
    results = [m.GateResult.model_validate(g) for g in row.gates]
    for i, gate in enumerate(policy.gates):
        if isinstance(gate, EvaluationGate | ChampionGate):
            results[i] = judge(gate, scores[str(i)])
    row.gates = [r.model_dump(mode="json") for r in results]
    if _failed(ctx, row, results):
        return "stop"
    return _next(ctx, row, policy, "evaluate")


def smoke_plan(ctx: Context, promotion_id: int) -> dict[str, Any]:
    """What the smoke gates replay, for the child process that serves the version."""
    row = _locked(ctx, promotion_id)
    policy = PromotionPolicy.model_validate(row.policy)
    return {
        "model": row.version.model.name,
        "version": row.version.version,
        "source": row.source.name,
        "source_workspace": row.version.model.workspace.name,
        "principal": row.requested_by,
        "smokes": [
            {"gate": str(i), "rows": gate.rows, "dataset": gate.dataset}
            for i, gate in enumerate(policy.gates)
            if isinstance(gate, SmokeGate)
        ],
    }


def record_smoke(ctx: Context, promotion_id: int, evidence: dict[str, Any]) -> str:
    """The smoke gates' results from what the child measured: ``stop`` when one failed,
    else what comes next (``approval`` or ``apply``)."""
    row = _locked(ctx, promotion_id)
    if row.status not in ("checking", "awaiting_approval"):
        return "stop"
    policy = PromotionPolicy.model_validate(row.policy)
    results = [m.GateResult.model_validate(g) for g in row.gates]
    for i, gate in enumerate(policy.gates):
        if isinstance(gate, SmokeGate):
            results[i] = judge_smoke(gate, evidence[str(i)])
    row.gates = [r.model_dump(mode="json") for r in results]
    if _failed(ctx, row, results):
        return "stop"
    return _next(ctx, row, policy, "smoke")


def gates_unjudged(ctx: Context, promotion_id: int, step: str, error: str) -> str:
    """The child process of ``step`` could not judge its gates (a holdout that does not
    exist, a model that does not load): they fail with that error, and so does the
    promotion, rather than staying "checking" and blocking the next request."""
    row = _locked(ctx, promotion_id)
    if row.status not in ("checking", "awaiting_approval"):
        return "stop"
    results = [m.GateResult.model_validate(g) for g in row.gates]
    for i, r in enumerate(results):
        if r.kind in _STEPS[step]:
            results[i] = m.GateResult(
                kind=r.kind, status="failed", summary=f"could not be judged: {error}", at=utcnow()
            )
    row.gates = [r.model_dump(mode="json") for r in results]
    _failed(ctx, row, results)
    return "stop"


def _next(ctx: Context, row: schema.Promotion, policy: PromotionPolicy, done: str) -> str:
    """The step after ``done``: the next one with a gate to judge, else approval or apply."""
    steps = list(_STEPS)
    for step in steps[steps.index(done) + 1 :]:
        if any(g.kind in _STEPS[step] for g in policy.gates):
            return step
    return _after_checks(ctx, row, policy)


def _failed(ctx: Context, row: schema.Promotion, results: list[m.GateResult]) -> bool:
    failed = [r for r in results if r.status == "failed"]
    if failed:
        _end(row, "failed", "; ".join(f"{r.kind}: {r.summary}" for r in failed))
        _record(ctx, row, "promotion.fail", "promotion.failed")
    return bool(failed)


def _after_checks(ctx: Context, row: schema.Promotion, policy: PromotionPolicy) -> str:
    if any(g.kind == "approval" for g in policy.gates):
        row.status, row.updated_at = "awaiting_approval", utcnow()
        approval_state(ctx, row.id)
        return "approval"
    return "apply"


def approval_state(ctx: Context, promotion_id: int) -> str:
    """``approved``, ``waiting`` (for more approvals) or ``stop`` (rejected, cancelled)."""
    row = _locked(ctx, promotion_id)
    if row.status != "awaiting_approval":
        return "stop"
    policy = PromotionPolicy.model_validate(row.policy)
    gate = next(g for g in policy.gates if isinstance(g, ApprovalGate))
    now = utcnow()
    cutoff = now - timedelta(hours=gate.expires_hours)
    approvals = [d for d in _decisions(ctx, row) if d.decision == "approve" and d.at >= cutoff]
    done = len(approvals) >= gate.approvals
    results = [m.GateResult.model_validate(g) for g in row.gates]
    index = next(i for i, g in enumerate(policy.gates) if g.kind == "approval")
    results[index] = m.GateResult(
        kind="approval",
        status="passed" if done else "waiting",
        summary=f"{len(approvals)} of {gate.approvals} approval(s)"
        + ("" if done else f" (each valid for {gate.expires_hours:g} h)"),
        evidence={
            "approvers": [
                {"principal": d.principal, "comment": d.comment, "at": d.at.isoformat()}
                for d in approvals
            ],
            "needed": gate.approvals,
        },
        at=now,
    )
    row.gates = [r.model_dump(mode="json") for r in results]
    row.updated_at = now
    return "approved" if done else "waiting"


def finish_promotion(ctx: Context, promotion_id: int) -> str:
    """Every gate passed: the version becomes available in the target, the alias moves."""
    row = _locked(ctx, promotion_id)
    if row.status not in ("checking", "awaiting_approval", "rolling_out"):
        return row.status
    version, target = make_available(ctx, row), row.target
    if row.alias:
        move_alias(ctx, version.model, target, row.alias, version, reason=f"promotion {row.id}")
    where = f"'{target.workspace.name}/{target.name}' as version {version.version}"
    _end(
        row,
        "promoted",
        (
            f"available in {where}"
            if version.id != row.version_id
            else f"available in '{target.name}'"
        )
        + (f" as @{row.alias}" if row.alias else "")
        + (f" after rollout {row.rollout_id}" if row.rollout_id else ""),
    )
    _record(ctx, row, "promotion.promote", "model_version.promoted")
    return "promoted"


def begin_release(ctx: Context, promotion_id: int) -> str:
    """Approved, with a rollout as the last gate: start it (``rolling_out``), or ``apply``
    when there is none, or ``stop`` when the promotion ended meanwhile or could not start it
    (it then fails, changing nothing)."""
    row = _locked(ctx, promotion_id)
    if row.status not in ("checking", "awaiting_approval", "rolling_out"):
        return "stop"
    if row.release is None:
        return "apply"
    if row.rollout_id is None:
        try:
            with ctx.session.begin_nested():
                row.rollout_id = start_release(ctx, row)
        except ModelwrightError as exc:
            withdraw(ctx, row)
            _end(row, "failed", f"rollout: could not start: {exc}")
            _record(ctx, row, "promotion.fail", "promotion.failed")
            return "stop"
        row.status, row.updated_at = "rolling_out", utcnow()
        _record(ctx, row, "promotion.rollout", "promotion.rolling_out")
    return "rolling_out"


def release_state(ctx: Context, promotion_id: int) -> str:
    """``waiting`` while the rollout runs, ``apply`` once it succeeded, ``stop`` when it did
    not (the promotion fails and the version leaves the target again)."""
    row = _locked(ctx, promotion_id)
    if row.status != "rolling_out":
        return "stop"
    rollout = ctx.session.get(schema.Rollout, row.rollout_id)
    if rollout is not None and rollout.status in ("running", "paused"):
        return "waiting"
    if rollout is not None and rollout.status == "succeeded":
        return "apply"
    withdraw(ctx, row)
    status = "deleted" if rollout is None else rollout.status
    outcome = "" if rollout is None else f": {rollout.outcome}"
    _end(row, "failed", f"rollout {row.rollout_id} {status}{outcome}")
    _record(ctx, row, "promotion.fail", "promotion.failed")
    return "stop"


# -- helpers ----------------------------------------------------------------------------------
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
        source = get_environment(ctx.session, target.workspace.name, named)
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
        source = get_environment(ctx.session, workspace, req.source)
    else:
        path = sorted(get_workspace(ctx.session, workspace).environments, key=lambda e: e.position)
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


def _copied_into(ctx: Context, version: schema.ModelVersion, target: schema.Environment) -> bool:
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


def _promoted_number(ctx: Context, row: schema.Promotion) -> int | None:
    if row.status != "promoted" or row.result_version_id is None:
        return None
    version = ctx.session.get(schema.ModelVersion, row.result_version_id)
    return None if version is None else version.version


def _promotion(ctx: Context, promotion_id: int, *, lock: bool = False) -> schema.Promotion:
    query = select(P).where(P.id == promotion_id)
    if lock:
        query = query.with_for_update()
    row = ctx.session.scalar(query)
    if row is None or not _sees(ctx, row):
        raise NotFound(f"promotion {promotion_id} not found", details={"promotion": promotion_id})
    return row


def _locked(ctx: Context, promotion_id: int) -> schema.Promotion:
    row = ctx.session.scalar(select(P).where(P.id == promotion_id).with_for_update())
    if row is None:
        raise NotFound(f"promotion {promotion_id} not found", details={"promotion": promotion_id})
    return row


def _sees(ctx: Context, row: schema.Promotion) -> bool:
    return ctx.allowed(Action.DATA_READ, row.target.workspace.name, row.target.name) or (
        ctx.allowed(Action.DATA_READ, row.source.workspace.name, row.source.name)
    )


def _for_decision(ctx: Context, promotion_id: int) -> schema.Promotion:
    row = _promotion(ctx, promotion_id, lock=True)
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
    if any(d.principal == me for d in _decisions(ctx, row)):
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


def _decisions(ctx: Context, row: schema.Promotion) -> list[schema.PromotionDecision]:
    return list(
        ctx.session.scalars(
            select(schema.PromotionDecision)
            .where(schema.PromotionDecision.promotion_id == row.id)
            .order_by(schema.PromotionDecision.id)
        )
    )


def _end(row: schema.Promotion, status: str, outcome: str) -> None:
    now = utcnow()
    row.status, row.outcome, row.updated_at, row.finished_at = status, outcome, now, now


def _uri(row: schema.Promotion) -> str:
    return model_uri(row.version.model.name, row.version.version)


def _record(ctx: Context, row: schema.Promotion, action: str, event: str, **extra: Any) -> None:
    ws = row.target.workspace.name
    state = {"status": row.status, "outcome": row.outcome, **extra}
    ctx.audit(
        action,
        workspace=ws,
        environment=row.target.name,
        target=f"promotion:{row.id}",
        after={"model": _uri(row), "from": row.source.name, "to": row.target.name, **state},
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


def _info(ctx: Context, row: schema.Promotion) -> m.PromotionInfo:
    ctx.session.flush()
    return m.PromotionInfo(
        id=row.id,
        workspace=row.version.model.workspace.name,
        model=row.version.model.name,
        version=row.version.version,
        uri=_uri(row),
        source=row.source.name,
        target=row.target.name,
        target_workspace=row.target.workspace.name,
        promoted_version=_promoted_number(ctx, row),
        alias=row.alias,
        status=row.status,
        reason=row.reason,
        outcome=row.outcome,
        requested_by=row.requested_by,
        job_id=row.job_id,
        rollout=None if row.release is None else RolloutPlan.model_validate(row.release),
        rollout_id=row.rollout_id,
        gates=[m.GateResult.model_validate(g) for g in row.gates],
        decisions=[
            m.DecisionInfo(
                principal=d.principal,
                decision=d.decision,
                comment=d.comment,
                at=d.at,
            )
            for d in _decisions(ctx, row)
        ],
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )
