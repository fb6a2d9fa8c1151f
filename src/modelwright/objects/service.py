"""Permission checks in front of the object stores; the transports move the bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from sqlalchemy import String, cast, or_, select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.lookup import get_environment
from modelwright.errors import InvalidInput, NotFound, PermissionDenied
from modelwright.objects.models import ObjectScope
from modelwright.store import schema
from modelwright.store.artifacts import ArtifactStore

__all__ = [
    "datastore_row",
    "put_named_objects",
    "require_objects",
    "store_for_read",
    "store_for_write",
]

# Any of these, anywhere, lets a principal upload to the shared artifact store: uploading
# alone exposes nothing, and the operation that names the object checks its own permission.
_ARTIFACT_WRITERS = (Action.PIPELINE_RUN, Action.MODEL_REGISTER, Action.DATA_WRITE)


def datastore_row(ctx: Context, workspace: str, environment: str, name: str) -> schema.Datastore:
    env = get_environment(ctx.session, workspace, environment)
    for d in env.datastores:
        if d.name == name:
            return d
    known = ", ".join(d.name for d in env.datastores) or "none"
    raise NotFound(
        f"datastore '{name}' not found in {workspace}/{environment} (it has: {known})",
        details={"workspace": workspace, "environment": environment, "datastore": name},
    )


def store_for_write(ctx: Context, scope: ObjectScope) -> ArtifactStore:
    if scope.kind == "artifacts":
        if not any(a.value in g.actions for g in ctx.grants() for a in _ARTIFACT_WRITERS):
            raise PermissionDenied(
                f"principal '{ctx.caller.name}' may not upload artifacts: it needs pipeline.run, "
                "model.register or data.write somewhere",
                details={"principal": ctx.caller.name},
            )
        return ctx.artifacts
    ctx.require(Action.DATA_WRITE, scope.workspace, scope.environment)
    return ctx.open_store(
        datastore_row(ctx, scope.workspace, scope.environment, scope.datastore).url
    )


def store_for_read(ctx: Context, scope: ObjectScope, digest: str) -> ArtifactStore:
    if scope.kind == "datastore":
        ctx.require(Action.DATA_READ, scope.workspace, scope.environment)
        return ctx.open_store(
            datastore_row(ctx, scope.workspace, scope.environment, scope.datastore).url
        )
    # An artifact is readable by whoever may read a run that logged it.
    rows = ctx.session.execute(
        select(schema.Workspace.name, schema.Environment.name)
        .select_from(schema.RunArtifact)
        .join(schema.Run, schema.RunArtifact.run_id == schema.Run.id)
        .join(schema.Environment, schema.Run.environment_id == schema.Environment.id)
        .join(schema.Workspace, schema.Environment.workspace_id == schema.Workspace.id)
        .where(schema.RunArtifact.digest == digest)
    ).all()
    if not any(ctx.allowed(Action.DATA_READ, ws, env) for ws, env in rows) and not (
        _model_file_readable(ctx, digest)
    ):
        raise NotFound(
            f"artifact {digest} not found (or not readable by '{ctx.caller.name}')",
            details={"digest": digest},
        )
    return ctx.artifacts


def _model_file_readable(ctx: Context, digest: str) -> bool:
    """A model version's manifest and files are readable by whoever may read the version:
    data.read in an environment where it is available (registered or promoted)."""
    V, VE = schema.ModelVersion, schema.ModelVersionEnvironment
    # The files are listed in the version's JSON metadata: a text match narrows the rows
    # portably (SQLite and PostgreSQL), the parsed list decides.
    candidates = ctx.session.scalars(
        select(V).where(or_(V.digest == digest, cast(V.metadata_, String).contains(digest)))
    ).all()
    for version in candidates:
        files = {f.get("digest") for f in version.metadata_.get("files", [])}
        if version.digest != digest and digest not in files:
            continue
        rows = ctx.session.execute(
            select(schema.Workspace.name, schema.Environment.name)
            .select_from(VE)
            .join(schema.Environment, VE.environment_id == schema.Environment.id)
            .join(schema.Workspace, schema.Environment.workspace_id == schema.Workspace.id)
            .where(VE.version_id == version.id)
        ).all()
        if any(ctx.allowed(Action.DATA_READ, ws, env) for ws, env in rows):
            return True
    return False


def require_objects(ctx: Context, store: ArtifactStore, digests: Iterable[str]) -> None:
    """Operations name objects by digest; the bytes must have been put first."""
    for digest in dict.fromkeys(digests):
        if not store.exists(digest):
            raise InvalidInput(
                f"object {digest} is not in {store!r}: upload it before naming it",
                details={"digest": digest},
            )


def put_named_objects(store: ArtifactStore, objects: Mapping[str, bytes]) -> None:
    """Store objects sent with the digest they claim (whoever sends them was allowed to
    upload): refused whole, before anything is stored, if one does not match. Each is
    durable when ``put_bytes`` returns, so a record committed after this names stored data."""
    for digest, data in objects.items():
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise InvalidInput(
                f"object {digest}: its bytes hash to {actual}; nothing was stored",
                details={"digest": digest},
            )
    for data in objects.values():
        store.put_bytes(data)
