"""Finding the environment, datastore, dataset and version a request names (checking the
caller may read or write there), and rendering datasets and their versions."""

from __future__ import annotations

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.lookup import get_environment, require_member
from modelwright.core.models import from_row
from modelwright.data import models as m
from modelwright.errors import InvalidInput, NotFound
from modelwright.objects.service import (
    check_isolation,
)
from modelwright.store import schema

__all__ = [
    "check_dataset_isolation",
    "dataset_info",
    "dataset_named",
    "datastore_named",
    "find_version",
    "readable_env",
    "version_info",
    "version_named",
    "version_summary",
    "writable_env",
]


def readable_env(ctx: Context, workspace: str, environment: str) -> schema.Environment:
    if not ctx.allowed(Action.DATA_READ, workspace, environment):
        require_member(ctx, workspace)
        ctx.require(Action.DATA_READ, workspace, environment)
    return get_environment(ctx, workspace, environment)


def writable_env(ctx: Context, workspace: str, environment: str) -> schema.Environment:
    ctx.require(Action.DATA_WRITE, workspace, environment)
    return get_environment(ctx, workspace, environment)


def datastore_named(env: schema.Environment, name: str | None) -> schema.Datastore:
    """The named datastore; unnamed, the environment's only one or the one called default."""
    where = f"{env.workspace.name}/{env.name}"
    names = [d.name for d in env.datastores]
    if name is None:
        if len(env.datastores) == 1:
            return env.datastores[0]
        if "default" in names:
            return env.datastores[names.index("default")]
        raise InvalidInput(
            f"datastore: environment {where} has "
            + (f"several datastores ({', '.join(names)}); name one" if names else "no datastore")
            + (
                ""
                if names
                else "; attach one with `modelwright datastore create` or create_datastore()"
            ),
            details={"field": "datastore"},
        )
    if name in names:
        return env.datastores[names.index(name)]
    raise NotFound(
        f"datastore '{name}' not found in {where} (it has: {', '.join(names) or 'none'})",
        details={"workspace": env.workspace.name, "environment": env.name, "datastore": name},
    )


def dataset_named(ctx: Context, env: schema.Environment, name: str) -> schema.Dataset:
    row = ctx.session.scalar(
        select(schema.Dataset).where(
            schema.Dataset.environment_id == env.id, schema.Dataset.name == name
        )
    )
    if row is None:
        raise NotFound(
            f"dataset '{name}' not found in {env.workspace.name}/{env.name}",
            details={"workspace": env.workspace.name, "environment": env.name, "dataset": name},
        )
    return row


def version_named(
    ctx: Context, dataset: schema.Dataset, version: int | None
) -> schema.DatasetVersion:
    q = select(schema.DatasetVersion).where(schema.DatasetVersion.dataset_id == dataset.id)
    if version is None:
        q = q.order_by(schema.DatasetVersion.version.desc()).limit(1)
    else:
        q = q.where(schema.DatasetVersion.version == version)
    row = ctx.session.scalar(q)
    if row is None:
        where = f"{dataset.environment.workspace.name}/{dataset.environment.name}"
        what = "has no versions" if version is None else f"has no version v{version}"
        raise NotFound(
            f"dataset '{dataset.name}' in {where} {what}"
            + (f" (latest is v{len(dataset.versions)})" if version and dataset.versions else ""),
            details={"dataset": dataset.name, "version": version},
        )
    return row


def find_version(ctx: Context, workspace: str, environment: str, ref: str) -> schema.DatasetVersion:
    """The version named by ``name@v3``, ``name@3``, ``name@latest`` or ``name`` (latest)."""
    name, version = m.parse_ref(ref)
    env = readable_env(ctx, workspace, environment)
    return version_named(ctx, dataset_named(ctx, env, name), version)


def check_dataset_isolation(
    ctx: Context, run: schema.Run | None, datastore: schema.Datastore, dataset: str, verb: str
) -> None:
    env = datastore.environment
    check_isolation(
        ctx, run, datastore, f"dataset '{env.workspace.name}/{env.name}/{dataset}'", verb
    )


def version_summary(v: schema.DatasetVersion) -> m.DatasetVersionSummary:
    rows = v.profile.get("rows") if v.profile else None
    return m.DatasetVersionSummary(
        version=v.version,
        digest=v.digest,
        datastore=v.datastore.name,
        kind=v.kind,
        format=v.format,
        size=v.size,
        files=v.files,
        rows=rows if isinstance(rows, int) else None,
        created_at=v.created_at,
        created_by=v.created_by,
        run_id=v.run_id,
    )


def dataset_info(
    d: schema.Dataset, versions: int, latest: m.DatasetVersionSummary | None
) -> m.DatasetInfo:
    return from_row(
        m.DatasetInfo,
        d,
        workspace=d.environment.workspace.name,
        environment=d.environment.name,
        versions=versions,
        latest=latest,
    )


def version_info(v: schema.DatasetVersion, *, created: bool = False) -> m.DatasetVersionInfo:
    env = v.dataset.environment
    return m.DatasetVersionInfo(
        **version_summary(v).model_dump(),
        workspace=env.workspace.name,
        environment=env.name,
        name=v.dataset.name,
        description=v.dataset.description,
        classification=v.datastore.classification,
        columns=[m.ColumnSchema.model_validate(c) for c in v.schema_] if v.schema_ else None,
        profile=m.DatasetProfile.model_validate(v.profile) if v.profile else None,
        created=created,
    )
