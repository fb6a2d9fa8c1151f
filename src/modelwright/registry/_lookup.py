"""Registry lookups and rendering shared by its operations: finding a model or version the
caller may read, where a version is available, and the info objects the operations return."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import String, cast, func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.lookup import visible_workspace
from modelwright.core.models import from_row
from modelwright.errors import Conflict, NotFound
from modelwright.registry import models as m
from modelwright.registry.uri import model_uri
from modelwright.store import schema

__all__ = [
    "available_in",
    "available_version",
    "env_names",
    "find_model",
    "model_info",
    "next_version",
    "readable_env_ids",
    "readable_model",
    "readable_version",
    "version_infos",
    "version_row",
    "visible_versions",
]


def readable_env_ids(ctx: Context, ws: schema.Workspace) -> set[int]:
    return {e.id for e in ws.environments if ctx.allowed(Action.DATA_READ, ws.name, e.name)}


def find_model(ctx: Context, ws: schema.Workspace, name: str) -> schema.RegisteredModel:
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


def readable_model(
    ctx: Context, workspace: str, name: str
) -> tuple[schema.RegisteredModel, set[int]]:
    ws = visible_workspace(ctx, workspace)
    readable = readable_env_ids(ctx, ws)
    if not readable:
        ctx.require(Action.DATA_READ, ws.name)
    return find_model(ctx, ws, name), readable


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


def next_version(ctx: Context, model: schema.RegisteredModel) -> int:
    """The number of the model's next version, taken: never a deleted version's number, so
    that ``models:/name/3`` names one version for good."""
    latest = ctx.session.scalar(
        select(func.max(schema.ModelVersion.version)).where(
            schema.ModelVersion.model_id == model.id
        )
    )
    model.last_version = max(latest or 0, model.last_version) + 1
    return model.last_version


def version_row(ctx: Context, model: schema.RegisteredModel, number: int) -> schema.ModelVersion:
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
        has = f"versions up to {latest}" if latest else "no versions"
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
    version = version_row(ctx, find_model(ctx, env.workspace, model), number)
    available = available_in(ctx, [version.id])[version.id]
    if env.id not in available:
        names = [e.name for e in env.workspace.environments if e.id in available]
        raise Conflict(
            f"{model_uri(model, number)} is not available in environment '{env.name}' "
            f"(available in: {', '.join(names) or 'none'}); register or promote it there first",
            details={"model": model, "version": number, "environment": env.name},
        )
    return version


def readable_version(ctx: Context, req: m.VersionRef) -> schema.ModelVersion:
    model, readable = readable_model(ctx, req.workspace, req.name)
    row = version_row(ctx, model, req.version)
    envs = available_in(ctx, [row.id])[row.id]
    if not set(envs) & readable:
        names = ", ".join(e.name for e in model.workspace.environments if e.id in envs)
        ctx.require(Action.DATA_READ, model.workspace.name, names.split(", ")[0])
    return row


# -- rendering --------------------------------------------------------------------------------
def env_names(ws: schema.Workspace) -> dict[int, str]:
    return {e.id: e.name for e in ws.environments}


def _readable_env_names(ctx: Context, ws: schema.Workspace) -> dict[int, str]:
    return {e.id: e.name for e in ws.environments if ctx.allowed(Action.DATA_READ, ws.name, e.name)}


def version_infos(
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
        from_row(
            m.ModelVersionInfo,
            r,
            workspace=model.workspace.name,
            name=model.name,
            uri=model_uri(model.name, r.version),
            flavor_meta=r.metadata_.get("flavor_meta", {}),
            files=r.metadata_.get("files", []),
            describe=r.metadata_.get("describe", {}),
            environment=env_names(model.workspace).get(r.environment_id, "?"),
            available_in=sorted(envs[e] for e in available[r.id] if e in envs),
            aliases={k: list(v) for k, v in aliases[r.id].items()},
            datasets=datasets.get(r.run_id, []) if r.run_id else [],
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


def model_info(ctx: Context, model: schema.RegisteredModel) -> m.ModelInfo:
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
    return from_row(
        m.ModelInfo,
        model,
        workspace=model.workspace.name,
        latest_version=max(numbers.values(), default=None),
        versions=len(numbers),
        aliases=dict(aliases),
    )


def visible_versions(
    ctx: Context, model: schema.RegisteredModel, readable: set[int]
) -> list[schema.ModelVersion]:
    available = available_in(ctx, [v.id for v in model.versions])
    return [v for v in model.versions if set(available[v.id]) & readable]
