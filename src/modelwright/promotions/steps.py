"""The steps of a promotion's workflow (``tasks``' ``promotion.run``): judging its gates, waiting
for approvals and for its rollout, and the change once every gate passed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from modelwright.core.context import Context, utcnow
from modelwright.errors import ModelwrightError
from modelwright.promotions import models as m
from modelwright.promotions._rows import OPEN, decisions, end, locked, record, uri
from modelwright.promotions.gates import check_metric, check_policy, judge
from modelwright.promotions.release import make_available, start_release, withdraw
from modelwright.promotions.smoke import judge_smoke
from modelwright.registry.service import move_alias
from modelwright.registry.uri import ModelRef
from modelwright.store import schema
from modelwright.workspaces.policy import (
    ApprovalGate,
    ChampionGate,
    EvaluationGate,
    Gate,
    PromotionPolicy,
    SmokeGate,
    parse_threshold,
)

__all__ = [
    "approval_state",
    "begin_release",
    "evaluation_plan",
    "finish_promotion",
    "gates_unjudged",
    "record_evaluation",
    "record_smoke",
    "release_state",
    "run_checks",
    "smoke_plan",
]

# The steps of the workflow that judge gates in order, with the gate kinds each one judges.
_STEPS = {
    "gates": ("metric", "policy"),
    "evaluate": ("evaluation", "champion"),
    "smoke": ("smoke",),
}


def run_checks(ctx: Context, promotion_id: int) -> str:
    """The gates that need nobody: the next step (``"evaluate"``, ``"smoke"``,
    ``"approval"``, or ``"apply"`` when nothing is left), or ``"stop"`` when a gate failed or
    the promotion ended meanwhile."""

    def check(row: schema.Promotion, gate: Gate, _: int) -> m.GateResult | None:
        if gate.kind == "metric":
            return check_metric(ctx, row.version, gate)
        if gate.kind == "policy":
            return check_policy(ctx, row.version, gate)
        return None

    return _judge_step(ctx, promotion_id, "gates", check)


def evaluation_plan(ctx: Context, promotion_id: int) -> dict[str, Any]:
    """What the evaluation and champion gates score, for the child process that loads the
    models: the candidate, the target's champion, on holdouts read in the target."""
    row = locked(ctx, promotion_id)
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
                "candidate": uri(row),
                # The candidate's workspace: another one than the target's across workspaces.
                "candidate_workspace": row.version.model.workspace.name,
                "champion": champion,
            }
        )
    return {"scorings": scorings}


def record_evaluation(ctx: Context, promotion_id: int, scores: dict[str, Any]) -> str:
    """The evaluation and champion gates' results from the scores: ``stop`` when one
    failed, else what comes next (``smoke``, ``approval`` or ``apply``)."""

    def check(_: schema.Promotion, gate: Gate, i: int) -> m.GateResult | None:
        if isinstance(gate, EvaluationGate | ChampionGate):
            return judge(gate, scores[str(i)])
        return None

    return _judge_step(ctx, promotion_id, "evaluate", check)


def smoke_plan(ctx: Context, promotion_id: int) -> dict[str, Any]:
    """What the smoke gates replay, for the child process that serves the version."""
    row = locked(ctx, promotion_id)
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

    def check(_: schema.Promotion, gate: Gate, i: int) -> m.GateResult | None:
        if isinstance(gate, SmokeGate):
            return judge_smoke(gate, evidence[str(i)])
        return None

    return _judge_step(ctx, promotion_id, "smoke", check)


def _judge_step(
    ctx: Context,
    promotion_id: int,
    step: str,
    check: Callable[[schema.Promotion, Gate, int], m.GateResult | None],
) -> str:
    """Judge the gates ``check`` answers for (the others keep their result) while the
    promotion is open: ``stop`` when one failed, else the step after ``step``."""
    row = locked(ctx, promotion_id)
    if row.status not in OPEN:
        return "stop"
    policy = PromotionPolicy.model_validate(row.policy)
    results = [m.GateResult.model_validate(g) for g in row.gates]
    for i, gate in enumerate(policy.gates):
        result = check(row, gate, i)
        if result is not None:
            results[i] = result
    row.gates = [r.model_dump(mode="json") for r in results]
    if _failed(ctx, row, results):
        return "stop"
    return _next(ctx, row, policy, step)


def gates_unjudged(ctx: Context, promotion_id: int, step: str, error: str) -> str:
    """The child process of ``step`` could not judge its gates (a holdout that does not
    exist, a model that does not load): they fail with that error, and so does the
    promotion, rather than staying "checking" and blocking the next request."""
    row = locked(ctx, promotion_id)
    if row.status not in OPEN:
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
        end(row, "failed", "; ".join(f"{r.kind}: {r.summary}" for r in failed))
        record(ctx, row, "promotion.fail", "promotion.failed")
    return bool(failed)


def _after_checks(ctx: Context, row: schema.Promotion, policy: PromotionPolicy) -> str:
    if any(g.kind == "approval" for g in policy.gates):
        row.status, row.updated_at = "awaiting_approval", utcnow()
        approval_state(ctx, row.id)
        return "approval"
    return "apply"


def approval_state(ctx: Context, promotion_id: int) -> str:
    """``approved``, ``waiting`` (for more approvals) or ``stop`` (rejected, cancelled)."""
    row = locked(ctx, promotion_id)
    if row.status != "awaiting_approval":
        return "stop"
    policy = PromotionPolicy.model_validate(row.policy)
    gate = next(g for g in policy.gates if isinstance(g, ApprovalGate))
    now = utcnow()
    cutoff = now - timedelta(hours=gate.expires_hours)
    approvals = [d for d in decisions(ctx, row) if d.decision == "approve" and d.at >= cutoff]
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
    row = locked(ctx, promotion_id)
    if row.status not in (*OPEN, "rolling_out"):
        return row.status
    version, target = make_available(ctx, row), row.target
    if row.alias:
        move_alias(ctx, version.model, target, row.alias, version, reason=f"promotion {row.id}")
    where = f"'{target.workspace.name}/{target.name}' as version {version.version}"
    end(
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
    record(ctx, row, "promotion.promote", "model_version.promoted")
    return "promoted"


def begin_release(ctx: Context, promotion_id: int) -> str:
    """Approved, with a rollout as the last gate: start it (``rolling_out``), or ``apply``
    when there is none, or ``stop`` when the promotion ended meanwhile or could not start it
    (it then fails, changing nothing)."""
    row = locked(ctx, promotion_id)
    if row.status not in (*OPEN, "rolling_out"):
        return "stop"
    if row.release is None:
        return "apply"
    if row.rollout_id is None:
        try:
            with ctx.session.begin_nested():
                row.rollout_id = start_release(ctx, row)
        except ModelwrightError as exc:
            withdraw(ctx, row)
            end(row, "failed", f"rollout: could not start: {exc}")
            record(ctx, row, "promotion.fail", "promotion.failed")
            return "stop"
        row.status, row.updated_at = "rolling_out", utcnow()
        record(ctx, row, "promotion.rollout", "promotion.rolling_out")
    return "rolling_out"


def release_state(ctx: Context, promotion_id: int) -> str:
    """``waiting`` while the rollout runs, ``apply`` once it succeeded, ``stop`` when it did
    not (the promotion fails and the version leaves the target again)."""
    row = locked(ctx, promotion_id)
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
    end(row, "failed", f"rollout {row.rollout_id} {status}{outcome}")
    record(ctx, row, "promotion.fail", "promotion.failed")
    return "stop"
