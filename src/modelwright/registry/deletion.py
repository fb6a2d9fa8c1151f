"""Deleting a model version: refused while anything still serves or points at it.

A version is deleted for good (its row, its availability, its lineage edges); its files stay
in the artifact store until ``modelwright gc`` finds that nothing else names them (another
version with the same bytes, a copy promoted into another workspace). It is refused, naming
each user, while an alias of any environment points at it, a deployment of an endpoint
serves it, a rollout of it is under way or a promotion of it is open. Deleting needs
``model.register`` in every environment where the version is available; it is audited.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.lineage import remove_edges
from modelwright.errors import Conflict
from modelwright.registry import models as m
from modelwright.registry._lookup import available_in, env_names, readable_version, version_infos
from modelwright.registry.uri import model_uri
from modelwright.store import schema

__all__ = ["delete_version", "version_users"]

# A rollout or promotion in one of these states still needs its version.
_LIVE_ROLLOUTS = ("running", "paused")
_OPEN_PROMOTIONS = ("checking", "awaiting_approval", "rolling_out")


def delete_version(ctx: Context, req: m.VersionRef) -> m.ModelVersionInfo:
    row = readable_version(ctx, req)
    model = row.model
    names = env_names(model.workspace)
    available = available_in(ctx, [row.id])[row.id]
    for env_id in sorted(available):
        ctx.require(Action.MODEL_REGISTER, model.workspace.name, names[env_id])
    uri = model_uri(model.name, row.version)
    users = version_users(ctx, row)
    if users:
        raise Conflict(
            f"{uri} is in use, so it cannot be deleted: {'; '.join(users)}",
            details={"model": model.name, "version": row.version, "used_by": users},
        )
    info = version_infos(ctx, model, [row])[0]
    remove_edges(ctx, "model_version", [str(row.id)])
    ctx.session.delete(row)
    ctx.session.flush()
    ctx.event(
        "model_version.deleted",
        workspace=model.workspace.name,
        environment=names.get(row.environment_id, ""),
        subject=f"model/{model.workspace.name}/{model.name}/{row.version}",
        data={"model": model.name, "version": row.version, "digest": row.digest},
    )
    ctx.audit(
        "model_version.delete",
        workspace=model.workspace.name,
        environment=names.get(row.environment_id, ""),
        target=f"model/{model.workspace.name}/{model.name}/{row.version}",
        before={
            "digest": row.digest,
            "flavor": row.flavor,
            "run_id": row.run_id,
            "available_in": sorted(names[e] for e in available),
        },
    )
    return info


def version_users(ctx: Context, row: schema.ModelVersion) -> list[str]:
    """What keeps a version from being deleted, each as a person reads it."""
    users: list[str] = []
    names = env_names(row.model.workspace)
    for alias in ctx.session.scalars(
        select(schema.ModelAlias)
        .where(schema.ModelAlias.version_id == row.id)
        .order_by(schema.ModelAlias.environment_id, schema.ModelAlias.alias)
    ):
        users.append(f"alias '{alias.alias}' in {names.get(alias.environment_id, '?')}")
    D, EP = schema.EndpointDeployment, schema.Endpoint
    for dep, endpoint in ctx.session.execute(
        select(D, EP).join(EP, EP.id == D.endpoint_id).where(D.version_id == row.id)
    ):
        env = endpoint.environment
        users.append(
            f"deployment '{dep.name}' of endpoint '{endpoint.name}' in "
            f"{env.workspace.name}/{env.name}"
        )
    for rollout in ctx.session.scalars(
        select(schema.Rollout).where(
            schema.Rollout.version_id == row.id, schema.Rollout.status.in_(_LIVE_ROLLOUTS)
        )
    ):
        users.append(
            f"rollout {rollout.id} ({rollout.status}) on endpoint '{rollout.endpoint.name}'"
        )
    P = schema.Promotion
    for promo in ctx.session.scalars(
        select(P).where(
            or_(P.version_id == row.id, P.result_version_id == row.id),
            P.status.in_(_OPEN_PROMOTIONS),
        )
    ):
        users.append(f"promotion {promo.id} to {promo.target.name} ({promo.status})")
    return users
