"""Workspace operations. Each function is one operation: ``(ctx, request) -> response``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from modelwright.core.actions import ALL, Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import get_environment, get_workspace, visible_workspace
from modelwright.core.models import Empty, from_row
from modelwright.core.pages import Page
from modelwright.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from modelwright.store import schema
from modelwright.workspaces import models as m
from modelwright.workspaces.policy import PromotionPolicy
from modelwright.workspaces.rules import location_problem, placement_problem


def workspace_info(ws: schema.Workspace, ctx: Context | None = None) -> m.WorkspaceInfo:
    """The workspace as ``ctx``'s caller may see it: datastore URLs only of environments it
    may read or manage (``ctx=None``: all of them, for audit records)."""

    def url(env: schema.Environment, d: schema.Datastore) -> str:
        if ctx is None or any(
            ctx.allowed(a, ws.name, env.name) for a in (Action.DATA_READ, Action.ACCESS_MANAGE)
        ):
            return d.url
        return ""

    return from_row(
        m.WorkspaceInfo,
        ws,
        environments=[
            from_row(
                m.EnvironmentInfo,
                e,
                promotion=e.promotion_policy,
                datastores=[from_row(m.DatastoreInfo, d, url=url(e, d)) for d in e.datastores],
            )
            for e in ws.environments
        ],
    )


def new_environment(spec: m.EnvironmentSpec, position: int) -> schema.Environment:
    return schema.Environment(
        name=spec.name,
        position=position,
        production=spec.production,
        description=spec.description,
        datastores=[new_datastore(d) for d in spec.datastores],
        promotion_policy=policy_json(spec.promotion),
    )


def policy_json(policy: PromotionPolicy | None) -> dict[str, Any] | None:
    return None if policy is None else policy.model_dump(mode="json")


def new_datastore(spec: m.DatastoreSpec) -> schema.Datastore:
    return schema.Datastore(
        name=spec.name, url=spec.url, classification=spec.classification, region=spec.region
    )


def check_location(ctx: Context, url: str, where: tuple[str, str, str]) -> None:
    """A datastore (``where``: workspace, environment, name) may point at ``url`` only under
    the allowed roots, away from the platform's own files and from every other datastore."""
    settings = ctx.settings
    reserved = [("the platform's artifact store", settings.artifacts_url)]
    if settings.db_url is None:
        reserved.append(("the platform's database", str(settings.home / "modelwright.db")))
    rows = ctx.session.execute(
        select(
            schema.Workspace.name,
            schema.Environment.name,
            schema.Datastore.name,
            schema.Datastore.url,
        )
        .join(schema.Environment, schema.Datastore.environment_id == schema.Environment.id)
        .join(schema.Workspace, schema.Environment.workspace_id == schema.Workspace.id)
    ).all()
    taken = [(f"{w}/{e}/{d}", u) for w, e, d, u in rows if (w, e, d) != where]
    problem = location_problem(
        url, roots=settings.allowed_datastore_roots, reserved=reserved, taken=taken
    )
    if problem:
        workspace, environment, name = where
        raise InvalidInput(
            f"url: {problem}",
            details={
                "field": "url",
                "workspace": workspace,
                "environment": environment,
                "datastore": name,
            },
        )


def list_workspaces(ctx: Context, req: m.ListWorkspaces) -> Page[m.WorkspaceInfo]:
    # Environments and their datastores in two more statements, not two per workspace and
    # environment (the runner asks for this list when no workspace is named).
    query = select(schema.Workspace).options(
        selectinload(schema.Workspace.environments).selectinload(schema.Environment.datastores)
    )
    rows, token = keyset_page(
        ctx.session,
        query,
        [Key(schema.Workspace.name)],
        req,
        scope="workspaces",
        visible=lambda ws: ctx.is_member(ws.name),
    )
    return Page(items=[workspace_info(ws, ctx) for ws in rows], next_page_token=token)


def get_workspace_info(ctx: Context, req: m.WorkspaceRef) -> m.WorkspaceInfo:
    return workspace_info(visible_workspace(ctx, req.workspace), ctx)


def create_workspace(ctx: Context, req: m.CreateWorkspace) -> m.WorkspaceInfo:
    ctx.require_platform_admin("create workspaces")
    if ctx.session.scalar(select(schema.Workspace.id).where(schema.Workspace.name == req.name)):
        raise AlreadyExists(
            f"workspace '{req.name}' already exists", details={"workspace": req.name}
        )
    for e in req.environments:
        for d in e.datastores:
            check_location(ctx, d.url, (req.name, e.name, d.name))
    ws = schema.Workspace(
        name=req.name,
        description=req.description,
        created_at=utcnow(),
        environments=[new_environment(e, i) for i, e in enumerate(req.environments)],
    )
    ctx.session.add(ws)
    ctx.session.flush()
    info = workspace_info(ws)
    ctx.audit(
        "workspace.create",
        workspace=ws.name,
        target=f"workspace/{ws.name}",
        after=info.model_dump(mode="json"),
    )
    return info


DEFAULT_WORKSPACE = "default"


def ensure_default_workspace(ctx: Context, req: Empty) -> m.WorkspaceInfo:
    """The ``default`` workspace, made for a caller who sees no workspace yet: dev → staging
    → prod, each with a datastore under the platform's home (its own setting, never a path a
    client sends). Making it takes a platform admin, as creating any workspace does."""
    try:
        return get_workspace_info(ctx, m.WorkspaceRef(workspace=DEFAULT_WORKSPACE))
    except NotFound:
        pass  # missing, or not this caller's: the same answer
    visible = [w.name for w in list_workspaces(ctx, m.ListWorkspaces(limit=5)).items]
    if visible or not ctx.settings.default_workspace:
        why = f"you see {', '.join(visible)}" if visible else "this platform makes none"
        raise NotFound(
            f"workspace: no default workspace ({why})", details={"workspace": DEFAULT_WORKSPACE}
        )
    home = ctx.settings.home.resolve()
    envs = [
        m.EnvironmentSpec(
            name=env,
            production=env == "prod",
            datastores=[
                m.DatastoreSpec(
                    name="local",
                    url=str(home / "data" / DEFAULT_WORKSPACE / env),
                    classification="production" if env == "prod" else "non-production",
                )
            ],
        )
        for env in ("dev", "staging", "prod")
    ]
    return create_workspace(ctx, m.CreateWorkspace(name=DEFAULT_WORKSPACE, environments=envs))


def delete_workspace(ctx: Context, req: m.WorkspaceRef) -> m.WorkspaceInfo:
    ctx.require_platform_admin("delete workspaces")
    ws = get_workspace(ctx, req.workspace)
    info = workspace_info(ws)
    for grant in ctx.session.scalars(select(schema.Grant).where(schema.Grant.workspace == ws.name)):
        ctx.session.delete(grant)
    ctx.session.delete(ws)
    ctx.audit(
        "workspace.delete",
        workspace=ws.name,
        target=f"workspace/{ws.name}",
        before=info.model_dump(mode="json"),
    )
    return info


def create_environment(ctx: Context, req: m.CreateEnvironment) -> m.WorkspaceInfo:
    ctx.require(Action.ACCESS_MANAGE, req.workspace, ALL)
    ws = get_workspace(ctx, req.workspace)
    if any(e.name == req.name for e in ws.environments):
        raise AlreadyExists(
            f"environment '{req.name}' already exists in workspace '{ws.name}'",
            details={"workspace": ws.name, "environment": req.name},
        )
    spec = m.EnvironmentSpec.model_validate(req.model_dump(exclude={"workspace"}))
    for d in spec.datastores:
        check_location(ctx, d.url, (ws.name, spec.name, d.name))
    position = max((e.position for e in ws.environments), default=-1) + 1
    ws.environments.append(new_environment(spec, position))
    ctx.session.flush()
    ctx.audit(
        "environment.create",
        workspace=ws.name,
        environment=req.name,
        target=f"environment/{ws.name}/{req.name}",
        after=spec.model_dump(mode="json"),
    )
    return workspace_info(ws, ctx)


def create_datastore(ctx: Context, req: m.CreateDatastore) -> m.DatastoreInfo:
    ctx.require(Action.ACCESS_MANAGE, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    problem = placement_problem(env.name, env.production, req.name, req.classification)
    if problem:
        raise Conflict(
            problem,
            details={"workspace": req.workspace, "environment": env.name, "datastore": req.name},
        )
    if any(d.name == req.name for d in env.datastores):
        raise AlreadyExists(
            f"datastore '{req.name}' already exists in {req.workspace}/{env.name}",
            details={"workspace": req.workspace, "environment": env.name, "datastore": req.name},
        )
    spec = m.DatastoreSpec.model_validate(req.model_dump(exclude={"workspace", "environment"}))
    check_location(ctx, spec.url, (req.workspace, env.name, spec.name))
    env.datastores.append(new_datastore(spec))
    ctx.session.flush()
    info = m.DatastoreInfo(**spec.model_dump())
    _audit_datastore(ctx, "datastore.create", env, info, after=info.model_dump(mode="json"))
    return info


def refuse_if_in_use(ctx: Context, row: schema.Datastore, where: str) -> None:
    """Dataset versions point at their datastore; removing it would orphan their records."""
    used = ctx.session.scalar(
        select(func.count())
        .select_from(schema.DatasetVersion)
        .where(schema.DatasetVersion.datastore_id == row.id)
    )
    if used:
        raise Conflict(
            f"datastore '{row.name}' in {where} holds {used} dataset version(s); it cannot be "
            "removed while they exist",
            details={"datastore": row.name, "dataset_versions": used},
        )


def delete_datastore(ctx: Context, req: m.DatastoreRef) -> m.DatastoreInfo:
    ctx.require(Action.ACCESS_MANAGE, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    row = next((d for d in env.datastores if d.name == req.datastore), None)
    if row is None:
        raise NotFound(
            f"datastore '{req.datastore}' not found in {req.workspace}/{env.name}",
            details={
                "workspace": req.workspace,
                "environment": env.name,
                "datastore": req.datastore,
            },
        )
    refuse_if_in_use(ctx, row, f"{req.workspace}/{env.name}")
    info = from_row(m.DatastoreInfo, row)
    env.datastores.remove(row)
    _audit_datastore(ctx, "datastore.delete", env, info, before=info.model_dump(mode="json"))
    return info


def _audit_datastore(
    ctx: Context,
    action: str,
    env: schema.Environment,
    info: m.DatastoreInfo,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    ws = env.workspace.name
    ctx.audit(
        action,
        workspace=ws,
        environment=env.name,
        target=f"datastore/{ws}/{env.name}/{info.name}",
        before=before,
        after=after,
    )
