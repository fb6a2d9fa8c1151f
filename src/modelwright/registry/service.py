"""Registry operations. Each function is one operation: ``(ctx, request) -> response``.

Who may do what: registering a version and moving aliases needs ``model.register`` in the
environment concerned; reading a version needs ``data.read`` in an environment where it is
available (where it was registered, or promoted to). Every mutation is audited, in the same
transaction as the change, so a refused request leaves nothing behind.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import String, cast, func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lineage import add_edges
from modelwright.core.lookup import get_environment, visible_workspace
from modelwright.core.pages import Page
from modelwright.errors import Conflict, NotFound, PermissionDenied
from modelwright.objects.service import require_nameable
from modelwright.registry import models as m
from modelwright.registry.artifact import FileEntry, parse_manifest
from modelwright.registry.flavors import get_flavor
from modelwright.registry.signature import Signature
from modelwright.registry.uri import model_uri
from modelwright.store import schema
from modelwright.tracking.service import readable_run, writable_run

__all__ = [
    "alias_history",
    "available_in",
    "available_version",
    "delete_alias",
    "get_model",
    "get_version",
    "list_models",
    "list_versions",
    "move_alias",
    "register_version",
    "resolve_alias",
    "set_alias",
    "update_model",
    "update_version",
]


# -- lookups ----------------------------------------------------------------------------------
def _readable_env_ids(ctx: Context, ws: schema.Workspace) -> set[int]:
    return {e.id for e in ws.environments if ctx.allowed(Action.DATA_READ, ws.name, e.name)}


def _find_model(ctx: Context, ws: schema.Workspace, name: str) -> schema.RegisteredModel:
    model = ctx.session.scalar(
        select(schema.RegisteredModel).where(
            schema.RegisteredModel.workspace_id == ws.id, schema.RegisteredModel.name == name
        )
    )
    if model is None:
        raise NotFound(
            f"model '{name}' not found in workspace '{ws.name}'",
            details={"workspace": ws.name, "model": name},
        )
    return model


def _readable_model(
    ctx: Context, workspace: str, name: str
) -> tuple[schema.RegisteredModel, set[int]]:
    ws = visible_workspace(ctx, workspace)
    readable = _readable_env_ids(ctx, ws)
    if not readable:
        ctx.require(Action.DATA_READ, ws.name)
    return _find_model(ctx, ws, name), readable


def available_in(ctx: Context, version_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    if version_ids:
        rows = ctx.session.execute(
            select(
                schema.ModelVersionEnvironment.version_id,
                schema.ModelVersionEnvironment.environment_id,
            ).where(schema.ModelVersionEnvironment.version_id.in_(version_ids))
        ).all()
        for vid, eid in rows:
            out[vid].append(eid)
    return out


def _version_row(ctx: Context, model: schema.RegisteredModel, number: int) -> schema.ModelVersion:
    row = ctx.session.scalar(
        select(schema.ModelVersion).where(
            schema.ModelVersion.model_id == model.id, schema.ModelVersion.version == number
        )
    )
    if row is None:
        latest = ctx.session.scalar(
            select(func.max(schema.ModelVersion.version)).where(
                schema.ModelVersion.model_id == model.id
            )
        )
        has = f"versions 1..{latest}" if latest else "no versions"
        raise NotFound(
            f"version {number} of model '{model.name}' not found (it has {has})",
            details={"model": model.name, "version": number},
        )
    return row


def available_version(
    ctx: Context, env: schema.Environment, model: str, number: int
) -> schema.ModelVersion:
    """Version ``number`` of ``model`` (in ``env``'s workspace), which must be available in
    ``env``: registered there, or promoted into it."""
    version = _version_row(ctx, _find_model(ctx, env.workspace, model), number)
    available = available_in(ctx, [version.id])[version.id]
    if env.id not in available:
        names = [e.name for e in env.workspace.environments if e.id in available]
        raise Conflict(
            f"{model_uri(model, number)} is not available in environment '{env.name}' "
            f"(available in: {', '.join(names) or 'none'}); register or promote it there first",
            details={"model": model, "version": number, "environment": env.name},
        )
    return version


def _readable_version(ctx: Context, req: m.VersionRef) -> schema.ModelVersion:
    model, readable = _readable_model(ctx, req.workspace, req.name)
    row = _version_row(ctx, model, req.version)
    envs = available_in(ctx, [row.id])[row.id]
    if not set(envs) & readable:
        names = ", ".join(e.name for e in model.workspace.environments if e.id in envs)
        ctx.require(Action.DATA_READ, model.workspace.name, names.split(", ")[0])
    return row


# -- rendering --------------------------------------------------------------------------------
def _env_names(ws: schema.Workspace) -> dict[int, str]:
    return {e.id: e.name for e in ws.environments}


def _readable_env_names(ctx: Context, ws: schema.Workspace) -> dict[int, str]:
    return {e.id: e.name for e in ws.environments if ctx.allowed(Action.DATA_READ, ws.name, e.name)}


def _version_infos(
    ctx: Context, model: schema.RegisteredModel, rows: list[schema.ModelVersion]
) -> list[m.ModelVersionInfo]:
    # Aliases, availability and inputs of environments the caller may not read stay hidden.
    envs = _readable_env_names(ctx, model.workspace)
    available = available_in(ctx, [r.id for r in rows])
    aliases: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for a in ctx.session.scalars(
        select(schema.ModelAlias)
        .where(schema.ModelAlias.model_id == model.id, schema.ModelAlias.environment_id.in_(envs))
        .order_by(schema.ModelAlias.alias)
    ):
        aliases[a.version_id][envs[a.environment_id]].append(a.alias)
    datasets = _run_datasets(ctx, [r.run_id for r in rows if r.run_id], envs)
    return [
        m.ModelVersionInfo(
            workspace=model.workspace.name,
            name=model.name,
            version=r.version,
            uri=model_uri(model.name, r.version),
            digest=r.digest,
            flavor=r.flavor,
            flavor_meta=r.metadata_.get("flavor_meta", {}),
            signature=None if r.signature is None else Signature.model_validate(r.signature),
            requirements=r.requirements,
            files=[FileEntry.model_validate(f) for f in r.metadata_.get("files", [])],
            describe=r.metadata_.get("describe", {}),
            environment=_env_names(model.workspace).get(r.environment_id, "?"),
            available_in=sorted(envs[e] for e in available[r.id] if e in envs),
            aliases={k: list(v) for k, v in aliases[r.id].items()},
            run_id=r.run_id,
            datasets=datasets.get(r.run_id, []) if r.run_id else [],
            description=r.description,
            tags=dict(r.tags),
            created_at=r.created_at,
            created_by=r.created_by,
        )
        for r in rows
    ]


def _run_datasets(
    ctx: Context, run_ids: list[str], readable: dict[int, str]
) -> dict[str, list[str]]:
    """The readable dataset versions each run read, as ``env/name@vN``: one query for all."""
    if not run_ids or not readable:
        return {}
    E, DV, D = schema.LineageEdge, schema.DatasetVersion, schema.Dataset
    rows = ctx.session.execute(
        select(E.target_id, D.environment_id, D.name, DV.version)
        # Edge ids are strings (they name runs too); the cast keeps the join in SQL.
        .join(DV, cast(DV.id, String) == E.source_id)
        .join(D, D.id == DV.dataset_id)
        .where(
            E.target_kind == "run",
            E.target_id.in_(set(run_ids)),
            E.source_kind == "dataset_version",
            E.relation == "input",
            D.environment_id.in_(readable),
        )
    ).all()
    out: dict[str, list[str]] = defaultdict(list)
    for run_id, env_id, name, version in rows:
        out[run_id].append(f"{readable[env_id]}/{name}@v{version}")
    return {run_id: sorted(found) for run_id, found in out.items()}


def _model_info(ctx: Context, model: schema.RegisteredModel) -> m.ModelInfo:
    envs = _readable_env_names(ctx, model.workspace)
    numbers = dict(
        ctx.session.execute(
            select(schema.ModelVersion.id, schema.ModelVersion.version).where(
                schema.ModelVersion.model_id == model.id
            )
        ).all()
    )
    aliases: dict[str, dict[str, int]] = defaultdict(dict)
    for a in ctx.session.scalars(
        select(schema.ModelAlias).where(
            schema.ModelAlias.model_id == model.id, schema.ModelAlias.environment_id.in_(envs)
        )
    ):
        aliases[envs[a.environment_id]][a.alias] = numbers[a.version_id]
    return m.ModelInfo(
        workspace=model.workspace.name,
        name=model.name,
        description=model.description,
        tags=dict(model.tags),
        created_at=model.created_at,
        created_by=model.created_by,
        latest_version=max(numbers.values(), default=None),
        versions=len(numbers),
        aliases=dict(aliases),
    )


# -- registering ------------------------------------------------------------------------------
def register_version(ctx: Context, req: m.RegisterVersion) -> m.ModelVersionInfo:
    ctx.require(Action.MODEL_REGISTER, req.workspace, req.environment)
    env = get_environment(ctx.session, req.workspace, req.environment)
    ws = env.workspace
    if req.run_id is not None:
        run = readable_run(ctx, req.run_id)
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
            return _version_infos(ctx, model, [same])[0]
    latest = ctx.session.scalar(
        select(func.max(schema.ModelVersion.version)).where(
            schema.ModelVersion.model_id == model.id
        )
    )
    now = utcnow()
    row = schema.ModelVersion(
        model=model,
        version=(latest or 0) + 1,
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
        run_id=req.run_id,
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
    if req.run_id is not None:
        add_edges(ctx, ws.id, [("run", req.run_id, "model_version", str(row.id), "output")])
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
            "run_id": req.run_id,
        },
    )
    return _version_infos(ctx, model, [row])[0]


# -- reading ----------------------------------------------------------------------------------
def list_models(ctx: Context, req: m.ListModels) -> Page[m.ModelInfo]:
    ws = visible_workspace(ctx, req.workspace)
    if not _readable_env_ids(ctx, ws):
        ctx.require(Action.DATA_READ, ws.name)
    rows, token = keyset_page(
        ctx.session,
        select(schema.RegisteredModel).where(schema.RegisteredModel.workspace_id == ws.id),
        [Key(schema.RegisteredModel.name)],
        req,
        scope="models",
    )
    return Page(items=[_model_info(ctx, r) for r in rows], next_page_token=token)


def _visible_versions(
    ctx: Context, model: schema.RegisteredModel, readable: set[int]
) -> list[schema.ModelVersion]:
    available = available_in(ctx, [v.id for v in model.versions])
    return [v for v in model.versions if set(available[v.id]) & readable]


def get_model(ctx: Context, req: m.ModelRef) -> m.ModelDetail:
    model, readable = _readable_model(ctx, req.workspace, req.name)
    versions = _version_infos(ctx, model, _visible_versions(ctx, model, readable))
    return m.ModelDetail(**_model_info(ctx, model).model_dump(), version_list=versions)


def list_versions(ctx: Context, req: m.ListVersions) -> Page[m.ModelVersionInfo]:
    model, readable = _readable_model(ctx, req.workspace, req.name)
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
    return Page(items=_version_infos(ctx, model, rows), next_page_token=token)


def get_version(ctx: Context, req: m.VersionRef) -> m.ModelVersionInfo:
    row = _readable_version(ctx, req)
    return _version_infos(ctx, row.model, [row])[0]


def use_version(ctx: Context, req: m.UseVersion) -> m.ModelVersionInfo:
    """Record that a run (which the caller may write to) used a version it may read."""
    row = _readable_version(
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
        names = _env_names(row.model.workspace)
        readable = _readable_env_ids(ctx, row.model.workspace)
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
    return _version_infos(ctx, row.model, [row])[0]


def _alias_row(
    ctx: Context, model: schema.RegisteredModel, env: schema.Environment, alias: str
) -> schema.ModelAlias | None:
    return ctx.session.scalar(
        select(schema.ModelAlias).where(
            schema.ModelAlias.model_id == model.id,
            schema.ModelAlias.environment_id == env.id,
            schema.ModelAlias.alias == alias,
        )
    )


def resolve_alias(ctx: Context, req: m.AliasRef) -> m.ModelVersionInfo:
    ctx.require(Action.DATA_READ, req.workspace, req.environment)
    env = get_environment(ctx.session, req.workspace, req.environment)
    model = _find_model(ctx, env.workspace, req.name)
    row = _alias_row(ctx, model, env, req.alias)
    if row is None:
        known = sorted(
            ctx.session.scalars(
                select(schema.ModelAlias.alias).where(
                    schema.ModelAlias.model_id == model.id,
                    schema.ModelAlias.environment_id == env.id,
                )
            )
        )
        raise NotFound(
            f"model '{model.name}' has no alias '{req.alias}' in environment '{env.name}' "
            f"(it has: {', '.join(known) or 'none'})",
            details={"model": model.name, "alias": req.alias, "environment": env.name},
        )
    version = ctx.session.get(schema.ModelVersion, row.version_id)
    if version is None:  # the foreign key cascades; a dangling alias is a corrupted store
        raise NotFound(f"alias '{req.alias}' of model '{model.name}' points at a missing version")
    return _version_infos(ctx, model, [version])[0]


# -- aliases ----------------------------------------------------------------------------------
def set_alias(ctx: Context, req: m.SetAlias) -> m.ModelVersionInfo:
    ctx.require(Action.MODEL_REGISTER, req.workspace, req.environment)
    env = get_environment(ctx.session, req.workspace, req.environment)
    version = available_version(ctx, env, req.name, req.version)
    move_alias(ctx, version.model, env, req.alias, version, reason=req.reason)
    return _version_infos(ctx, version.model, [version])[0]


def move_alias(
    ctx: Context,
    model: schema.RegisteredModel,
    env: schema.Environment,
    alias: str,
    version: schema.ModelVersion,
    *,
    reason: str,
) -> None:
    """Point ``alias`` in ``env`` at ``version`` (available there), with its history, event
    and audit record; nothing when it points there already. Callers check permissions."""
    row = _alias_row(ctx, model, env, alias)
    before = None
    now = utcnow()
    if row is None:
        row = schema.ModelAlias(
            model_id=model.id,
            environment_id=env.id,
            alias=alias,
            version_id=version.id,
            updated_at=now,
            updated_by=ctx.caller.name,
        )
        ctx.session.add(row)
    else:
        old = ctx.session.get(schema.ModelVersion, row.version_id)
        before = old.version if old is not None else None
        if before == version.version:
            return
        row.version_id, row.updated_at, row.updated_by = version.id, now, ctx.caller.name
    _alias_event(
        ctx, model=model, env=env, alias=alias, before=before, after=version.version, reason=reason
    )


def _alias_event(
    ctx: Context,
    *,
    model: schema.RegisteredModel,
    env: schema.Environment,
    alias: str,
    before: int | None,
    after: int | None,
    reason: str,
) -> schema.ModelAliasEvent:
    event = schema.ModelAliasEvent(
        model_id=model.id,
        environment_id=env.id,
        alias=alias,
        from_version=before,
        to_version=after,
        at=utcnow(),
        by=ctx.caller.name,
        reason=reason,
    )
    ctx.session.add(event)
    ctx.session.flush()
    ctx.event(
        "alias.moved",
        workspace=model.workspace.name,
        environment=env.name,
        subject=f"model/{model.workspace.name}/{model.name}@{alias}",
        data={"model": model.name, "alias": alias, "before": before, "after": after},
    )
    ctx.audit(
        "model.alias.set" if after is not None else "model.alias.delete",
        workspace=model.workspace.name,
        environment=env.name,
        target=f"model/{model.workspace.name}/{model.name}@{alias}",
        before={"version": before},
        after={"version": after, "reason": reason},
    )
    return event


def _event_info(
    model: schema.RegisteredModel, env: str, e: schema.ModelAliasEvent
) -> m.AliasEventInfo:
    return m.AliasEventInfo(
        model=model.name,
        environment=env,
        alias=e.alias,
        from_version=e.from_version,
        to_version=e.to_version,
        at=e.at,
        by=e.by,
        reason=e.reason,
    )


def delete_alias(ctx: Context, req: m.DeleteAlias) -> m.AliasEventInfo:
    ctx.require(Action.MODEL_REGISTER, req.workspace, req.environment)
    env = get_environment(ctx.session, req.workspace, req.environment)
    model = _find_model(ctx, env.workspace, req.name)
    row = _alias_row(ctx, model, env, req.alias)
    if row is None:
        raise NotFound(
            f"model '{model.name}' has no alias '{req.alias}' in environment '{env.name}'",
            details={"model": model.name, "alias": req.alias, "environment": env.name},
        )
    old = ctx.session.get(schema.ModelVersion, row.version_id)
    ctx.session.delete(row)
    event = _alias_event(
        ctx,
        model=model,
        env=env,
        alias=req.alias,
        before=old.version if old else None,
        after=None,
        reason=req.reason,
    )
    return _event_info(model, env.name, event)


def alias_history(ctx: Context, req: m.AliasHistoryRequest) -> Page[m.AliasEventInfo]:
    """Oldest first. With ``at``, the aliases then in force: one page, at most one event
    per alias and environment."""
    model, readable = _readable_model(ctx, req.workspace, req.name)
    envs = _env_names(model.workspace)
    q = select(schema.ModelAliasEvent).where(
        schema.ModelAliasEvent.model_id == model.id,
        schema.ModelAliasEvent.environment_id.in_(readable),
    )
    if req.environment is not None:
        q = q.where(
            schema.ModelAliasEvent.environment_id
            == get_environment(ctx.session, req.workspace, req.environment).id
        )
    if req.alias is not None:
        q = q.where(schema.ModelAliasEvent.alias == req.alias)
    if req.at is not None:
        q = q.where(schema.ModelAliasEvent.at <= req.at)
    keys = [Key(schema.ModelAliasEvent.at), Key(schema.ModelAliasEvent.id)]
    token = None
    if req.at is not None:
        # What was in force at that time: the last move of each alias up to then, unless it
        # removed the alias.
        ordered = q.order_by(*(k.order() for k in keys))
        last = {(e.environment_id, e.alias): e for e in ctx.session.scalars(ordered)}
        events = [e for e in last.values() if e.to_version is not None]
    else:
        events, token = keyset_page(ctx.session, q, keys, req, scope="alias_history")
    items = [_event_info(model, envs.get(e.environment_id, "?"), e) for e in events]
    return Page(items=items, next_page_token=token)


# -- descriptions and tags ----------------------------------------------------------------------
def _apply_tags(current: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    out = dict(current)
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


def update_model(ctx: Context, req: m.UpdateModel) -> m.ModelInfo:
    ws = visible_workspace(ctx, req.workspace)
    ctx.require(Action.MODEL_REGISTER, ws.name)
    model = _find_model(ctx, ws, req.name)
    before = {"description": model.description, "tags": dict(model.tags)}
    if req.description is not None:
        model.description = req.description
    model.tags = _apply_tags(model.tags, req.tags)
    ctx.session.flush()
    ctx.audit(
        "model.update",
        workspace=ws.name,
        target=f"model/{ws.name}/{model.name}",
        before=before,
        after={"description": model.description, "tags": dict(model.tags)},
    )
    return _model_info(ctx, model)


def update_version(ctx: Context, req: m.UpdateVersion) -> m.ModelVersionInfo:
    ws = visible_workspace(ctx, req.workspace)
    model = _find_model(ctx, ws, req.name)
    row = _version_row(ctx, model, req.version)
    ctx.require(Action.MODEL_REGISTER, ws.name, row.environment.name)
    before = {"description": row.description, "tags": dict(row.tags)}
    if req.description is not None:
        row.description = req.description
    row.tags = _apply_tags(row.tags, req.tags)
    ctx.session.flush()
    ctx.audit(
        "model.version.update",
        workspace=ws.name,
        environment=row.environment.name,
        target=f"model/{ws.name}/{model.name}/{row.version}",
        before=before,
        after={"description": row.description, "tags": dict(row.tags)},
    )
    return _version_infos(ctx, model, [row])[0]
