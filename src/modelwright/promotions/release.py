"""What a promotion changes once its gates pass: the version in the target (the same row, or
a copy when the target is another workspace), and, when a rollout is the last gate, the
rollout on the target's endpoint. Callers (``promotions.service``) hold the promotion's lock
and have checked permissions."""

from __future__ import annotations

from sqlalchemy import delete, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lineage import add_edges
from modelwright.endpoints.service import endpoint_row
from modelwright.errors import Conflict
from modelwright.registry._lookup import next_version
from modelwright.rollouts import models as rm
from modelwright.rollouts.service import start_rollout
from modelwright.store import schema

__all__ = ["check_release", "copy_for", "make_available", "start_release", "withdraw"]

MVE = schema.ModelVersionEnvironment


def copy_for(ctx: Context, row: schema.Promotion) -> schema.ModelVersion:
    """The version as the target workspace knows it: the same row within one workspace; across
    workspaces, a copy of it under the same model name (created if missing) with the next
    number there. The copy shares the artifact (by digest), the run and so the metrics and
    training data; a lineage edge leads from it back to the version it came from."""
    version, target = row.version, row.target
    if row.result_version_id is not None:
        found = ctx.session.get(schema.ModelVersion, row.result_version_id)
        if found is not None:
            return found
    if target.workspace_id == version.model.workspace_id:
        row.result_version_id = version.id
        return version
    now = utcnow()
    model = ctx.session.scalar(
        select(schema.RegisteredModel).where(
            schema.RegisteredModel.workspace_id == target.workspace_id,
            schema.RegisteredModel.name == version.model.name,
        )
    )
    if model is None:
        model = schema.RegisteredModel(
            workspace_id=target.workspace_id,
            name=version.model.name,
            description=version.model.description,
            tags=dict(version.model.tags),
            created_at=now,
            created_by=row.requested_by,
        )
        ctx.session.add(model)
        ctx.session.flush()
    number = next_version(ctx, model)
    copy = schema.ModelVersion(
        model_id=model.id,
        version=number,
        digest=version.digest,
        flavor=version.flavor,
        signature=version.signature,
        requirements=list(version.requirements),
        metadata_={
            **version.metadata_,
            "promoted_from": {
                "workspace": version.model.workspace.name,
                "model": version.model.name,
                "version": version.version,
                "promotion": row.id,
            },
        },
        environment_id=target.id,
        run_id=version.run_id,
        description=version.description,
        tags=dict(version.tags),
        created_at=now,
        # Who produced it stays who produced it: four eyes hold across workspaces too.
        created_by=version.created_by,
    )
    ctx.session.add(copy)
    ctx.session.flush()
    # Lineage follows this edge from either side, on into the source's run and data.
    add_edges(
        ctx,
        target.workspace_id,
        [("model_version", str(version.id), "model_version", str(copy.id), "input")],
    )
    row.result_version_id = copy.id
    return copy


def make_available(ctx: Context, row: schema.Promotion) -> schema.ModelVersion:
    """The target's version, available in the target from now (idempotent)."""
    version = copy_for(ctx, row)
    present = ctx.session.get(MVE, (version.id, row.target_env_id))
    if present is None:
        ctx.session.add(
            MVE(
                version_id=version.id,
                environment_id=row.target_env_id,
                since=utcnow(),
                by=row.requested_by,
                how="promoted",
            )
        )
        ctx.session.flush()
    return version


def withdraw(ctx: Context, row: schema.Promotion) -> None:
    """Undo ``make_available`` after a failed rollout: the version leaves the target again
    (the rollout's record of what it served stays)."""
    if row.result_version_id is None:
        return
    ctx.session.execute(
        delete(MVE).where(
            MVE.version_id == row.result_version_id,
            MVE.environment_id == row.target_env_id,
            MVE.how == "promoted",
        )
    )


def check_release(ctx: Context, target: schema.Environment, plan: rm.RolloutPlan) -> None:
    """Refuse at request time what would stop the rollout from starting: the requester must
    be allowed to deploy in the target (a rollout changes live traffic), and the endpoint must
    exist there with one deployment taking all the traffic."""
    ws = target.workspace.name
    ctx.require(Action.ENDPOINT_DEPLOY, ws, target.name)
    endpoint = endpoint_row(ctx, ws, target.name, plan.endpoint)
    live = [d.name for d in endpoint.deployments if d.weight > 0]
    if len(live) != 1:
        raise Conflict(
            f"rollout.endpoint: endpoint '{plan.endpoint}' must have one deployment taking all "
            f"the traffic to roll out from (it has: {', '.join(live) or 'none'})",
            details={"field": "rollout.endpoint"},
        )
    if plan.deployment is not None and any(d.name == plan.deployment for d in endpoint.deployments):
        raise Conflict(
            f"rollout.deployment: '{plan.deployment}' exists on endpoint '{plan.endpoint}'",
            details={"field": "rollout.deployment"},
        )


def start_release(ctx: Context, row: schema.Promotion) -> int:
    """Start the rollout that is the promotion's last gate; its id."""
    plan = rm.RolloutPlan.model_validate(row.release)
    version = make_available(ctx, row)
    target = row.target
    info = start_rollout(
        ctx,
        rm.StartRollout(
            workspace=target.workspace.name,
            environment=target.name,
            endpoint=plan.endpoint,
            deployment=plan.deployment or f"{version.model.name}-v{version.version}",
            model=version.model.name,
            version=version.version,
            strategy=plan.strategy,
            steps=plan.steps,
            bake_seconds=plan.bake_seconds,
            alarms=plan.alarms,
            min_requests=plan.min_requests,
            config=plan.config,
            reason=f"promotion {row.id}",
        ),
    )
    return info.id
