"""Endpoint operations. Each function is one operation: ``(ctx, request) -> response``.

Changing an endpoint needs ``endpoint.deploy`` in its environment; reading one needs
membership of the workspace. Only versions available in the endpoint's environment
(registered there or promoted into it) can be deployed. The weights of the deployments that
take live traffic always sum to 100; the shadow deployment takes none. Every change bumps
the endpoint's ``generation`` (routers poll it) and is audited in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from modelwright.access.tokens import authenticate
from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import (
    check_scope,
    get_environment,
    require_member,
    visible_workspace,
)
from modelwright.core.models import from_row
from modelwright.core.pages import Page
from modelwright.endpoints import models as m
from modelwright.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from modelwright.registry.service import available_version
from modelwright.registry.uri import model_uri
from modelwright.store import schema

__all__ = [
    "authorize_invoke",
    "create_endpoint",
    "delete_endpoint",
    "deploy",
    "endpoint_row",
    "environment_for_endpoints",
    "get_endpoint",
    "list_endpoints",
    "sees_endpoints",
    "set_shadow",
    "set_traffic",
    "undeploy",
]


# -- lookups ----------------------------------------------------------------------------------
def _environment(ctx: Context, workspace: str, environment: str) -> schema.Environment:
    require_member(ctx, workspace)
    return get_environment(ctx, workspace, environment)


def sees_endpoints(ctx: Context, workspace: str, environment: str) -> bool:
    """Endpoints (their deployments and model digests) are metadata of the environment: seen
    by who may read it or deploy there."""
    return ctx.allowed(Action.DATA_READ, workspace, environment) or ctx.allowed(
        Action.ENDPOINT_DEPLOY, workspace, environment
    )


def environment_for_endpoints(ctx: Context, workspace: str, environment: str) -> schema.Environment:
    """The environment, once the caller may see its endpoints (else NotFound/PermissionDenied)."""
    env = _environment(ctx, workspace, environment)
    if not sees_endpoints(ctx, workspace, env.name):
        ctx.require(Action.DATA_READ, workspace, env.name)
    return env


def endpoint_row(ctx: Context, workspace: str, environment: str, name: str) -> schema.Endpoint:
    env = environment_for_endpoints(ctx, workspace, environment)
    row = ctx.session.scalar(
        select(schema.Endpoint).where(
            schema.Endpoint.environment_id == env.id, schema.Endpoint.name == name
        )
    )
    if row is None:
        raise NotFound(
            f"endpoint '{name}' not found in {workspace}/{environment}",
            details={"workspace": workspace, "environment": environment, "endpoint": name},
        )
    return row


def _for_change(ctx: Context, workspace: str, environment: str, name: str) -> schema.Endpoint:
    row = endpoint_row(ctx, workspace, environment, name)
    ctx.require(Action.ENDPOINT_DEPLOY, workspace, environment)
    return row


def _deployment(row: schema.Endpoint, name: str) -> schema.EndpointDeployment:
    for d in row.deployments:
        if d.name == name:
            return d
    have = ", ".join(d.name for d in row.deployments) or "none"
    raise NotFound(
        f"deployment '{name}' not found on endpoint '{row.name}' (it has: {have})",
        details={"endpoint": row.name, "deployment": name},
    )


# -- rendering --------------------------------------------------------------------------------
def _info(row: schema.Endpoint) -> m.EndpointInfo:
    env = row.environment
    return from_row(
        m.EndpointInfo,
        row,
        workspace=env.workspace.name,
        environment=env.name,
        deployments=[
            from_row(
                m.DeploymentInfo,
                d,
                model=d.version.model.name,
                version=d.version.version,
                uri=model_uri(d.version.model.name, d.version.version),
                digest=d.version.digest,
                shadow=d.name == row.shadow,
            )
            for d in row.deployments
        ],
    )


def _state(row: schema.Endpoint) -> dict[str, object]:
    return {
        "deployments": {
            d.name: {
                "model": d.version.model.name,
                "version": d.version.version,
                "weight": d.weight,
            }
            for d in row.deployments
        },
        "shadow": row.shadow,
        "shadow_percent": row.shadow_percent,
    }


def _changed(ctx: Context, row: schema.Endpoint, action: str, before: dict[str, object]) -> None:
    row.generation += 1
    row.updated_at = utcnow()
    ctx.session.flush()
    ctx.session.refresh(row)
    _record(ctx, row, action, before=before, after=_state(row))


def _record(
    ctx: Context,
    row: schema.Endpoint,
    action: str,
    *,
    before: dict[str, object] | None = None,
    after: dict[str, object] | None = None,
) -> None:
    """One change to an endpoint: its ``endpoint.changed`` event and its audit record."""
    ws, env = row.environment.workspace.name, row.environment.name
    ctx.event(
        "endpoint.changed",
        workspace=ws,
        environment=env,
        subject=f"endpoint/{ws}/{env}/{row.name}",
        data={"endpoint": row.name, "change": action},
    )
    ctx.audit(
        action,
        workspace=ws,
        environment=env,
        target=f"endpoint:{row.name}",
        before=before,
        after=after,
    )


def _check_weights(row: schema.Endpoint) -> None:
    live = [d for d in row.deployments if d.name != row.shadow]
    total = sum(d.weight for d in live)
    if live and total != 100:
        shares = ", ".join(f"{d.name}={d.weight}" for d in live)
        raise InvalidInput(
            f"weights: the deployments' weights must sum to 100, got {total} ({shares})",
            details={"field": "weights", "total": total},
        )


# -- operations -------------------------------------------------------------------------------
def create_endpoint(ctx: Context, req: m.CreateEndpoint) -> m.EndpointInfo:
    env = _environment(ctx, req.workspace, req.environment)
    ctx.require(Action.ENDPOINT_DEPLOY, req.workspace, req.environment)
    exists = ctx.session.scalar(
        select(schema.Endpoint.id).where(
            schema.Endpoint.environment_id == env.id, schema.Endpoint.name == req.name
        )
    )
    if exists is not None:
        raise AlreadyExists(
            f"endpoint '{req.name}' already exists in {req.workspace}/{req.environment}",
            details={"endpoint": req.name},
        )
    now = utcnow()
    row = schema.Endpoint(
        environment_id=env.id,
        name=req.name,
        description=req.description,
        shadow=None,
        shadow_percent=0,
        generation=1,
        created_at=now,
        created_by=ctx.caller.name,
        updated_at=now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.refresh(row)
    _record(ctx, row, "endpoint.create", after=_state(row))
    return _info(row)


def list_endpoints(ctx: Context, req: m.ListEndpoints) -> Page[m.EndpointInfo]:
    check_scope(ctx, req.workspace, req.environment)
    ws = visible_workspace(ctx, req.workspace)
    envs = [e for e in ws.environments if req.environment in (None, e.name)]
    if req.environment is not None and not sees_endpoints(ctx, ws.name, req.environment):
        ctx.require(Action.DATA_READ, ws.name, req.environment)
    envs = [e for e in envs if sees_endpoints(ctx, ws.name, e.name)]
    E = schema.Endpoint
    rows, token = keyset_page(
        ctx.session,
        select(E).where(E.environment_id.in_([e.id for e in envs])),
        [Key(E.environment_id), Key(E.name)],
        req,
        scope="endpoints",
    )
    return Page(items=[_info(r) for r in rows], next_page_token=token)


def get_endpoint(ctx: Context, req: m.EndpointRef) -> m.EndpointInfo:
    return _info(endpoint_row(ctx, req.workspace, req.environment, req.endpoint))


def delete_endpoint(ctx: Context, req: m.EndpointRef) -> m.EndpointInfo:
    """Delete an endpoint with its deployments, routing history and statistics; refused
    while a rollout on it is under way or a monitor watches it (both would go with it)."""
    row = _for_change(ctx, req.workspace, req.environment, req.endpoint)
    users = [
        f"rollout {r.id} ({r.status})"
        for r in ctx.session.scalars(
            select(schema.Rollout).where(
                schema.Rollout.endpoint_id == row.id,
                schema.Rollout.status.in_(("running", "paused")),
            )
        )
    ] + [
        f"monitor '{name}'"
        for name in ctx.session.scalars(
            select(schema.Monitor.name).where(schema.Monitor.endpoint_id == row.id)
        )
    ]
    if users:
        raise Conflict(
            f"endpoint '{row.name}' is in use, so it cannot be deleted: {'; '.join(users)}; "
            "abort the rollout or delete the monitor first",
            details={"endpoint": row.name, "used_by": users},
        )
    info = _info(row)
    _record(ctx, row, "endpoint.delete", before=_state(row))
    ctx.session.delete(row)
    return info


def deploy(ctx: Context, req: m.Deploy) -> m.EndpointInfo:
    """Add a deployment, or point an existing one at another version or config."""
    row = _for_change(ctx, req.workspace, req.environment, req.endpoint)
    version = available_version(ctx, row.environment, req.model, req.version)
    _check_method(version, req.config.method)
    before = _state(row)
    existing = next((d for d in row.deployments if d.name == req.deployment), None)
    if existing is None:
        live = [d for d in row.deployments if d.name != row.shadow]
        weight = req.weight if req.weight is not None else (0 if live else 100)
        row.deployments.append(
            schema.EndpointDeployment(
                name=req.deployment,
                version_id=version.id,
                weight=weight,
                config=req.config.model_dump(mode="json"),
                created_at=utcnow(),
                created_by=ctx.caller.name,
            )
        )
    else:
        existing.version_id = version.id
        existing.config = req.config.model_dump(mode="json")
        if req.weight is not None:
            existing.weight = req.weight
    ctx.session.flush()
    ctx.session.refresh(row)
    _check_weights(row)
    _changed(ctx, row, "endpoint.deploy", before)
    return _info(row)


def _check_method(version: schema.ModelVersion, method: str) -> None:
    """The version must offer ``method``, where its signature records its methods (a model
    logged before they were recorded is checked by its server as it starts)."""
    methods = list((version.signature or {}).get("methods") or {})
    if method != "predict" and methods and method not in methods:
        raise InvalidInput(
            f"config.method: {model_uri(version.model.name, version.version)} has no {method} "
            f"(it has {', '.join(methods)})",
            details={"field": "config.method", "value": method},
        )


def undeploy(ctx: Context, req: m.DeploymentRef) -> m.EndpointInfo:
    row = _for_change(ctx, req.workspace, req.environment, req.endpoint)
    target = _deployment(row, req.deployment)
    before = _state(row)
    others = [d for d in row.deployments if d is not target and d.name != row.shadow]
    if target.weight > 0 and others:
        raise Conflict(
            f"deployment '{target.name}' still takes {target.weight}% of the traffic; move it "
            "to other deployments first",
            details={"deployment": target.name, "weight": target.weight},
        )
    if row.shadow == target.name:
        row.shadow, row.shadow_percent = None, 0
    row.deployments.remove(target)
    _changed(ctx, row, "endpoint.undeploy", before)
    return _info(row)


def set_traffic(ctx: Context, req: m.SetTraffic) -> m.EndpointInfo:
    row = _for_change(ctx, req.workspace, req.environment, req.endpoint)
    before = _state(row)
    for name, weight in req.weights.items():
        _deployment(row, name)
        if not 0 <= weight <= 100:
            raise InvalidInput(
                f"weights.{name}: must be between 0 and 100, got {weight}",
                details={"field": f"weights.{name}"},
            )
        if name == row.shadow and weight > 0:
            raise Conflict(
                f"deployment '{name}' is the shadow; remove the shadow before giving it traffic",
                details={"deployment": name},
            )
    total = sum(req.weights.values())
    if total != 100:
        raise InvalidInput(
            f"weights: must sum to 100, got {total}", details={"field": "weights", "total": total}
        )
    for d in row.deployments:
        d.weight = req.weights.get(d.name, 0)
    _changed(ctx, row, "endpoint.traffic", before)
    return _info(row)


def set_shadow(ctx: Context, req: m.SetShadow) -> m.EndpointInfo:
    row = _for_change(ctx, req.workspace, req.environment, req.endpoint)
    before = _state(row)
    if req.deployment is None:
        row.shadow, row.shadow_percent = None, 0
    else:
        target = _deployment(row, req.deployment)
        if target.weight > 0:
            raise Conflict(
                f"deployment '{target.name}' takes {target.weight}% of the live traffic; a "
                "shadow takes none (move its traffic first)",
                details={"deployment": target.name},
            )
        row.shadow, row.shadow_percent = target.name, req.percent
    _changed(ctx, row, "endpoint.shadow", before)
    return _info(row)


def authorize_invoke(ctx: Context, req: m.AuthorizeInvoke) -> m.InvokeDecision:
    """Whether a token's principal may invoke endpoints of an environment (asked by routers,
    which run as a service account allowed to ``endpoint.deploy`` there, or as a platform
    admin). Token introspection is for routers only: anyone else could test stolen tokens."""
    _environment(ctx, req.workspace, req.environment)
    ctx.require(Action.ENDPOINT_DEPLOY, req.workspace, req.environment)
    me = ctx.session.get(schema.Principal, ctx.caller.principal_id)
    if (me is None or me.kind != "service") and not ctx.is_platform_admin():
        raise PermissionDenied(
            f"principal '{ctx.caller.name}' may not ask whether a token may invoke endpoints: "
            "only a router's service account (kind 'service', with endpoint.deploy there) or "
            "a platform admin may",
            details={"principal": ctx.caller.name, "action": "endpoint.authorize"},
        )
    try:
        caller = authenticate(ctx.session, req.token)
    except Unauthenticated as exc:
        return m.InvokeDecision(principal="", allowed=False, status=401, reason=exc.message)
    subject = ctx.as_principal(caller)
    if subject.allowed(Action.ENDPOINT_INVOKE, req.workspace, req.environment):
        return m.InvokeDecision(principal=caller.name, allowed=True, status=200, reason="granted")
    return m.InvokeDecision(
        principal=caller.name,
        allowed=False,
        status=403,
        reason=f"principal '{caller.name}' may not endpoint.invoke in "
        f"{req.workspace}/{req.environment}: no grant gives a role with that action there",
    )
