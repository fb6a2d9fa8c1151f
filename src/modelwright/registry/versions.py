"""Registering, reading and describing models and their versions."""

from __future__ import annotations

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lineage import add_edges
from modelwright.core.lookup import get_environment, visible_workspace
from modelwright.core.pages import Page
from modelwright.errors import Conflict, PermissionDenied
from modelwright.objects.service import require_nameable
from modelwright.registry import models as m
from modelwright.registry._lookup import (
    available_in,
    env_names,
    find_model,
    model_info,
    next_version,
    readable_env_ids,
    readable_model,
    readable_version,
    version_infos,
    version_row,
    visible_versions,
)
from modelwright.registry.artifact import parse_manifest
from modelwright.registry.flavors import get_flavor
from modelwright.store import schema
from modelwright.tracking.service import readable_run, writable_run

__all__ = [
    "get_model",
    "get_version",
    "list_models",
    "list_versions",
    "register_version",
    "update_model",
    "update_version",
    "use_version",
]


# -- registering ------------------------------------------------------------------------------
def register_version(ctx: Context, req: m.RegisterVersion) -> m.ModelVersionInfo:
    ctx.require(Action.MODEL_REGISTER, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    ws = env.workspace
    run_id = None
    if req.run_id is not None:
        run = readable_run(ctx, req.run_id)
        run_id = run.id  # the whole id, when a prefix named it
        if run.environment_id != env.id:
            raise Conflict(
                f"run_id: run '{run.id}' is in environment '{run.environment.name}', not "
                f"'{env.name}': register a model in the environment of its run",
                details={"field": "run_id"},
            )
        if run.status in ("failed", "killed"):
            raise Conflict(
                f"run_id: run '{run.id}' {run.status}; a model from a {run.status} run cannot "
                "be registered",
                details={"field": "run_id", "status": run.status},
            )
    require_nameable(ctx, [req.manifest], env)
    manifest = parse_manifest(ctx.artifacts.get_bytes(req.manifest), f"manifest {req.manifest}")
    get_flavor(manifest.flavor)
    require_nameable(ctx, [f.digest for f in manifest.files], env)

    model = ctx.session.scalar(
        select(schema.RegisteredModel).where(
            schema.RegisteredModel.workspace_id == ws.id, schema.RegisteredModel.name == req.name
        )
    )
    if model is None:
        model = schema.RegisteredModel(
            workspace=ws,
            name=req.name,
            description="",
            tags={},
            created_at=utcnow(),
            created_by=ctx.caller.name,
        )
        ctx.session.add(model)
        ctx.session.flush()
        ctx.audit("model.create", workspace=ws.name, target=f"model/{ws.name}/{req.name}", after={})
    else:
        same = ctx.session.scalar(
            select(schema.ModelVersion).where(
                schema.ModelVersion.model_id == model.id,
                schema.ModelVersion.digest == req.manifest,
            )
        )
        if same is not None:
            # Content-addressed: the same artifact is the same version.
            return version_infos(ctx, model, [same])[0]
    number = next_version(ctx, model)
    now = utcnow()
    row = schema.ModelVersion(
        model=model,
        version=number,
        digest=req.manifest,
        flavor=manifest.flavor,
        signature=None if manifest.signature is None else manifest.signature.model_dump(),
        requirements=manifest.requirements,
        metadata_={
            "files": [f.model_dump() for f in manifest.files],
            "flavor_meta": manifest.flavor_meta,
            "describe": manifest.description,
        },
        environment_id=env.id,
        run_id=run_id,
        description=req.description,
        tags=dict(req.tags),
        created_at=now,
        created_by=ctx.caller.name,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.session.add(
        schema.ModelVersionEnvironment(
            version_id=row.id,
            environment_id=env.id,
            since=now,
            by=ctx.caller.name,
            how="registered",
        )
    )
    if run_id is not None:
        add_edges(ctx, ws.id, [("run", run_id, "model_version", str(row.id), "output")])
    ctx.session.flush()
    ctx.event(
        "model_version.registered",
        workspace=ws.name,
        environment=env.name,
        subject=f"model/{ws.name}/{model.name}/{row.version}",
        data={"model": model.name, "version": row.version, "digest": row.digest},
    )
    ctx.audit(
        "model.register",
        workspace=ws.name,
        environment=env.name,
        target=f"model/{ws.name}/{model.name}/{row.version}",
        after={
            "version": row.version,
            "digest": row.digest,
            "flavor": row.flavor,
            "run_id": run_id,
        },
    )
    return version_infos(ctx, model, [row])[0]


# -- reading ----------------------------------------------------------------------------------
def list_models(ctx: Context, req: m.ListModels) -> Page[m.ModelInfo]:
    ws = visible_workspace(ctx, req.workspace)
    if not readable_env_ids(ctx, ws):
        ctx.require(Action.DATA_READ, ws.name)
    rows, token = keyset_page(
        ctx.session,
        select(schema.RegisteredModel).where(schema.RegisteredModel.workspace_id == ws.id),
        [Key(schema.RegisteredModel.name)],
        req,
        scope="models",
    )
    return Page(items=[model_info(ctx, r) for r in rows], next_page_token=token)


def get_model(ctx: Context, req: m.ModelRef) -> m.ModelDetail:
    model, readable = readable_model(ctx, req.workspace, req.name)
    versions = version_infos(ctx, model, visible_versions(ctx, model, readable))
    return m.ModelDetail(**model_info(ctx, model).model_dump(), version_list=versions)


def list_versions(ctx: Context, req: m.ListVersions) -> Page[m.ModelVersionInfo]:
    model, readable = readable_model(ctx, req.workspace, req.name)
    # Availability is filtered in SQL, before the limit, so no page comes back short.
    available = select(schema.ModelVersionEnvironment.version_id).where(
        schema.ModelVersionEnvironment.environment_id.in_(readable)
    )
    query = select(schema.ModelVersion).where(
        schema.ModelVersion.model_id == model.id, schema.ModelVersion.id.in_(available)
    )
    rows, token = keyset_page(
        ctx.session, query, [Key(schema.ModelVersion.version)], req, scope="model_versions"
    )
    return Page(items=version_infos(ctx, model, rows), next_page_token=token)


def get_version(ctx: Context, req: m.VersionRef) -> m.ModelVersionInfo:
    row = readable_version(ctx, req)
    return version_infos(ctx, row.model, [row])[0]


def use_version(ctx: Context, req: m.UseVersion) -> m.ModelVersionInfo:
    """Record that a run (which the caller may write to) used a version it may read."""
    row = readable_version(
        ctx, m.VersionRef(workspace=req.workspace, name=req.name, version=req.version)
    )
    run = writable_run(ctx, req.run_id)
    if run.experiment.workspace_id != row.model.workspace_id:
        raise Conflict(
            f"run_id: run '{run.id}' is in another workspace than model '{req.name}'",
            details={"field": "run_id"},
        )
    available = available_in(ctx, [row.id])[row.id]
    if run.environment_id not in available:
        # A run uses what its environment may use: a version not promoted there (a
        # production-only one above all) is not an input it can record.
        names = env_names(row.model.workspace)
        readable = readable_env_ids(ctx, row.model.workspace)
        where = ", ".join(sorted(names[e] for e in available if e in readable)) or "none"
        raise PermissionDenied(
            f"run_id: run '{run.id}' in environment '{run.environment.name}' may not use "
            f"version {row.version} of model '{req.name}': it is not available there "
            f"(available in: {where})",
            details={
                "field": "run_id",
                "rule": "environment-availability",
                "run_environment": run.environment.name,
            },
        )
    add_edges(ctx, row.model.workspace_id, [("model_version", str(row.id), "run", run.id, "input")])
    return version_infos(ctx, row.model, [row])[0]


# -- descriptions and tags ----------------------------------------------------------------------
def _describe(
    ctx: Context,
    row: schema.RegisteredModel | schema.ModelVersion,
    req: m.UpdateModel,
    action: str,
    *,
    workspace: str,
    environment: str = "",
    target: str,
) -> None:
    """Apply ``req``'s description and tag changes (a null tag value removes the tag) to a
    model or a version, audited with both before and after."""

    def state() -> dict[str, object]:
        return {"description": row.description, "tags": dict(row.tags)}

    before = state()
    if req.description is not None:
        row.description = req.description
    tags = dict(row.tags)
    for k, v in req.tags.items():
        if v is None:
            tags.pop(k, None)
        else:
            tags[k] = v
    row.tags = tags
    ctx.session.flush()
    ctx.audit(
        action,
        workspace=workspace,
        environment=environment,
        target=target,
        before=before,
        after=state(),
    )


def update_model(ctx: Context, req: m.UpdateModel) -> m.ModelInfo:
    ws = visible_workspace(ctx, req.workspace)
    ctx.require(Action.MODEL_REGISTER, ws.name)
    model = find_model(ctx, ws, req.name)
    _describe(
        ctx, model, req, "model.update", workspace=ws.name, target=f"model/{ws.name}/{model.name}"
    )
    return model_info(ctx, model)


def update_version(ctx: Context, req: m.UpdateVersion) -> m.ModelVersionInfo:
    ws = visible_workspace(ctx, req.workspace)
    model = find_model(ctx, ws, req.name)
    row = version_row(ctx, model, req.version)
    ctx.require(Action.MODEL_REGISTER, ws.name, row.environment.name)
    _describe(
        ctx,
        row,
        req,
        "model.version.update",
        workspace=ws.name,
        environment=row.environment.name,
        target=f"model/{ws.name}/{model.name}/{row.version}",
    )
    return version_infos(ctx, model, [row])[0]
