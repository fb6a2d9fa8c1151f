"""Deleting a dataset version: refused while a live model version's lineage needs it.

A model version's lineage runs through the versions its training runs read (dataset version
→ run → model version, and on through datasets those runs wrote); while a model version
downstream exists, the data it was trained on stays reproducible, so the deletion is refused
naming each model version. It is refused too while a monitor uses the version as its
baseline. Otherwise the version's row and its lineage edges go; its bytes stay in the
datastore until ``modelwright gc`` finds that no other version names them. Deleting needs
``data.write`` in the dataset's environment; it is audited.
"""

from __future__ import annotations

from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.core.lineage import remove_edges
from modelwright.data import models as m
from modelwright.data._lookup import dataset_named, version_info, version_named, writable_env
from modelwright.errors import Conflict
from modelwright.store import schema

__all__ = ["delete_version", "needed_by"]

# Lineage deeper than this is not followed (a pipeline of pipelines is far shallower).
_MAX_DEPTH = 50


def delete_version(ctx: Context, req: m.DatasetVersionRef) -> m.DatasetVersionInfo:
    env = writable_env(ctx, req.workspace, req.environment)
    row = version_named(ctx, dataset_named(ctx, env, req.name), m.parse_version(req.version))
    ref = f"{req.workspace}/{req.environment}/{req.name}@v{row.version}"
    users = needed_by(ctx, row)
    if users:
        raise Conflict(
            f"dataset {ref} is needed, so it cannot be deleted: {'; '.join(users)}",
            details={"dataset": req.name, "version": row.version, "needed_by": users},
        )
    info = version_info(row)
    remove_edges(ctx, "dataset_version", [str(row.id)])
    ctx.session.delete(row)
    ctx.session.flush()
    ctx.event(
        "dataset_version.deleted",
        workspace=req.workspace,
        environment=req.environment,
        subject=f"dataset/{ref}",
        data={"dataset": req.name, "version": row.version, "digest": row.digest},
    )
    ctx.audit(
        "dataset_version.delete",
        workspace=req.workspace,
        environment=req.environment,
        target=f"dataset/{ref}",
        before={
            "digest": row.digest,
            "datastore": row.datastore.name,
            "kind": row.kind,
            "size": row.size,
            "files": row.files,
        },
    )
    return info


def needed_by(ctx: Context, row: schema.DatasetVersion) -> list[str]:
    """The model versions downstream of ``row`` in lineage, and the monitors using it as
    their baseline, each as a person reads it."""
    users: list[str] = []
    E = schema.LineageEdge
    seen = {("dataset_version", str(row.id))}
    frontier = list(seen)
    versions: set[int] = set()
    for _ in range(_MAX_DEPTH):
        if not frontier:
            break
        nxt: list[tuple[str, str]] = []
        for kind, ident in frontier:
            for target_kind, target_id in ctx.session.execute(
                select(E.target_kind, E.target_id).where(
                    E.source_kind == kind, E.source_id == ident
                )
            ):
                target = (target_kind, target_id)
                if target in seen:
                    continue
                seen.add(target)
                nxt.append(target)
                if target[0] == "model_version" and target[1].isdigit():
                    versions.add(int(target[1]))
        frontier = nxt
    if versions:
        for v in ctx.session.scalars(
            select(schema.ModelVersion)
            .where(schema.ModelVersion.id.in_(versions))
            .order_by(schema.ModelVersion.id)
        ):
            users.append(f"model {v.model.workspace.name}/{v.model.name}/v{v.version}")
    for monitor in ctx.session.scalars(
        select(schema.Monitor).where(schema.Monitor.baseline_version_id == row.id)
    ):
        env = monitor.environment
        users.append(f"monitor '{monitor.name}' in {env.workspace.name}/{env.name} (baseline)")
    return users
