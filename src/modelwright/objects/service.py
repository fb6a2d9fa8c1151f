"""Permission checks in front of the object stores; the transports move the bytes.

Stores are content-addressed, so one object can belong to records of several workspaces and
environments, and a digest is no proof that its holder has the bytes. Two rules follow:

- **Reading** an object of the artifact store needs read access to a record that names it
  (a run's artifact, a model version's file), never merely "some record of mine names it".
- **Naming** an object in a new record needs the caller to have sent those bytes
  (``object_claims``, written on upload) or to read them already, so that a record never
  widens who reads bytes. Outside production, bytes that a production datastore holds for a
  dataset version (``production_objects``) may not be named, uploaded or registered at all.

Reading a production datastore's bytes needs the caller to act in a production environment:
the run's when the operation names a run, otherwise the one the caller declares
(``Context.acting``); a caller that declares none is refused too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import cast

from sqlalchemy import String, Table, or_, select
from sqlalchemy import cast as sql_cast

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lookup import get_environment
from modelwright.errors import InvalidInput, NotFound, PermissionDenied
from modelwright.objects.models import ObjectScope
from modelwright.store import schema
from modelwright.store.artifacts import ArtifactStore, location_of, storage_errors
from modelwright.store.db import insert_missing

__all__ = [
    "ISOLATION_RULE",
    "acting_environment",
    "artifact_readable",
    "check_isolation",
    "claim_objects",
    "datastore_row",
    "index_production_objects",
    "put_named_objects",
    "record_upload",
    "refuse_production_bytes",
    "require_nameable",
    "store_for_read",
    "store_for_write",
]

ISOLATION_RULE = "production data is never reachable from non-production environments"
# Bound values per IN (...) query: well under SQLite's limit of 32,766 host parameters.
_CHUNK = 1000

# Any of these, anywhere, lets a principal upload to the shared artifact store: uploading
# alone exposes nothing, and the operation that names the object checks its own permission.
_ARTIFACT_WRITERS = (Action.PIPELINE_RUN, Action.MODEL_REGISTER, Action.DATA_WRITE)


def datastore_row(ctx: Context, workspace: str, environment: str, name: str) -> schema.Datastore:
    env = get_environment(ctx, workspace, environment)
    for d in env.datastores:
        if d.name == name:
            return d
    known = ", ".join(d.name for d in env.datastores) or "none"
    raise NotFound(
        f"datastore '{name}' not found in {workspace}/{environment} (it has: {known})",
        details={"workspace": workspace, "environment": environment, "datastore": name},
    )


def store_for_write(ctx: Context, scope: ObjectScope, digest: str | None = None) -> ArtifactStore:
    """The store an upload goes to, once the caller may write there. With ``digest`` (known
    before the bytes, as on the HTTP route), production bytes bound for a non-production
    datastore are refused before any byte moves."""
    if scope.kind == "artifacts":
        if not any(a.value in g.actions for g in ctx.grants() for a in _ARTIFACT_WRITERS):
            raise PermissionDenied(
                f"principal '{ctx.caller.name}' may not upload artifacts: it needs pipeline.run, "
                "model.register or data.write somewhere",
                details={"principal": ctx.caller.name},
            )
        return ctx.artifacts
    ctx.require(Action.DATA_WRITE, scope.workspace, scope.environment)
    datastore = datastore_row(ctx, scope.workspace, scope.environment, scope.datastore)
    if digest is not None and datastore.classification != "production":
        refuse_production_bytes(ctx, [digest], f"datastore '{datastore.name}'")
    return ctx.open_store(datastore.url)


def record_upload(ctx: Context, scope: ObjectScope, digest: str) -> None:
    """After an upload to the artifact store: the caller sent these bytes, so it may name
    them, and read them back (a project snapshot that a worker reads as the submitter). A
    platform admin reads every record and every object, and needs no claim."""
    if scope.kind == "artifacts" and not ctx.is_platform_admin():
        claim_objects(ctx, [digest])


def claim_objects(ctx: Context, digests: Iterable[str]) -> None:
    now = utcnow()
    insert_missing(
        ctx.session,
        cast(Table, schema.ObjectClaim.__table__),
        [
            {"digest": d, "principal_id": ctx.caller.principal_id, "created_at": now}
            for d in dict.fromkeys(digests)
        ],
    )


def store_for_read(ctx: Context, scope: ObjectScope, digest: str) -> ArtifactStore:
    if scope.kind == "datastore":
        ctx.require(Action.DATA_READ, scope.workspace, scope.environment)
        datastore = datastore_row(ctx, scope.workspace, scope.environment, scope.datastore)
        check_isolation(ctx, None, datastore, f"object {digest}", "read")
        return ctx.open_store(datastore.url)
    if not (ctx.is_platform_admin() or _claimed(ctx, digest) or artifact_readable(ctx, digest)):
        raise NotFound(
            f"artifact {digest} not found (or not readable by '{ctx.caller.name}')",
            details={"digest": digest},
        )
    return ctx.artifacts


def _claimed(ctx: Context, digest: str) -> bool:
    """The caller uploaded these bytes itself: reading them back tells it nothing new."""
    return (
        ctx.session.scalar(
            select(schema.ObjectClaim.digest).where(
                schema.ObjectClaim.principal_id == ctx.caller.principal_id,
                schema.ObjectClaim.digest == digest,
            )
        )
        is not None
    )


def artifact_readable(ctx: Context, digest: str) -> bool:
    """Whether the caller may read a record that names this object of the artifact store:
    a run's artifact (data.read in the run's environment), or a model version's manifest or
    file (data.read in an environment where the version is available)."""
    rows = ctx.session.execute(
        select(schema.Workspace.name, schema.Environment.name)
        .select_from(schema.RunArtifact)
        .join(schema.Run, schema.RunArtifact.run_id == schema.Run.id)
        .join(schema.Environment, schema.Run.environment_id == schema.Environment.id)
        .join(schema.Workspace, schema.Environment.workspace_id == schema.Workspace.id)
        .where(schema.RunArtifact.digest == digest)
    ).all()
    return any(ctx.allowed(Action.DATA_READ, ws, env) for ws, env in rows) or (
        _model_file_readable(ctx, digest)
    )


def _model_file_readable(ctx: Context, digest: str) -> bool:
    """A model version's manifest and files are readable by whoever may read the version:
    data.read in an environment where it is available (registered or promoted)."""
    V, VE = schema.ModelVersion, schema.ModelVersionEnvironment
    # The files are listed in the version's JSON metadata: a text match narrows the rows
    # portably (SQLite and PostgreSQL), the parsed list decides.
    candidates = ctx.session.scalars(
        select(V).where(or_(V.digest == digest, sql_cast(V.metadata_, String).contains(digest)))
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


def require_nameable(ctx: Context, digests: Iterable[str], environment: schema.Environment) -> None:
    """Before a record in ``environment`` names objects of the artifact store: each must be
    stored and sent by the caller or readable by it through a record it may read, and
    outside production it must not be production data. A refused digest gets the same
    answer whether it is stored or not, so the answer tells nothing of other workspaces."""
    unique = list(dict.fromkeys(digests))
    if not unique:
        return
    if not ctx.is_platform_admin():
        claimed: set[str] = set()
        for start in range(0, len(unique), _CHUNK):
            claimed.update(
                ctx.session.scalars(
                    select(schema.ObjectClaim.digest).where(
                        schema.ObjectClaim.principal_id == ctx.caller.principal_id,
                        schema.ObjectClaim.digest.in_(unique[start : start + _CHUNK]),
                    )
                )
            )
        for digest in unique:
            if digest not in claimed and not artifact_readable(ctx, digest):
                raise _not_uploaded(ctx, digest)
    for digest in unique:
        if not ctx.artifacts.exists(digest):
            raise _not_uploaded(ctx, digest)
    if not environment.production:
        refuse_production_bytes(ctx, unique, f"environment '{environment.name}'")


def _not_uploaded(ctx: Context, digest: str) -> InvalidInput:
    return InvalidInput(
        f"object {digest} is not among the objects '{ctx.caller.name}' uploaded or may read: "
        "upload it before naming it",
        details={"digest": digest},
    )


# -- production isolation -----------------------------------------------------------------------
def acting_environment(
    ctx: Context, run: schema.Run | None, workspace: schema.Workspace
) -> schema.Environment | None:
    """Where the caller acts: the run's environment, else the one it declared (a bare name
    is looked up in ``workspace``), else nowhere (``None``)."""
    if run is not None:
        return run.environment
    if not ctx.acting:
        return None
    ws_name, _, env_name = ctx.acting.rpartition("/")
    env = get_environment(ctx, ws_name or workspace.name, env_name)
    return env


def check_isolation(
    ctx: Context,
    run: schema.Run | None,
    datastore: schema.Datastore,
    what: str,
    verb: str,
) -> None:
    """Production data is never reachable from non-production environments: reading a
    production datastore needs a production acting environment (declared or a run's);
    writing to one is refused from a run or declared environment outside production."""
    if datastore.classification != "production":
        return
    env = datastore.environment
    acting = acting_environment(ctx, run, env.workspace)
    if acting is not None and acting.production:
        return
    if acting is None and verb == "write":
        return  # a write without a declared environment: the grants decide
    who = (
        f"run '{run.id}' in non-production environment '{acting.name}'"
        if run is not None and acting is not None
        else f"principal '{ctx.caller.name}' acting in non-production environment '{acting.name}'"
        if acting is not None
        else f"principal '{ctx.caller.name}' (acting in no declared environment)"
    )
    hint = (
        ""
        if run is not None
        else "; to read production data, act in a production environment (SDK and CLI: "
        "MODELWRIGHT_ENVIRONMENT, or connect(environment=...); REST: the "
        "X-Modelwright-Environment header)"
    )
    raise PermissionDenied(
        f"{who} may not {verb} {what}: datastore '{datastore.name}' is classified "
        f"production ({ISOLATION_RULE}){hint}",
        details={
            "rule": "production-isolation",
            "run_id": run.id if run is not None else None,
            "acting_environment": acting.name if acting is not None else None,
            "run_environment": acting.name if run is not None and acting is not None else None,
            "datastore": datastore.name,
        },
    )


def index_production_objects(
    ctx: Context, version: schema.DatasetVersion, digests: Iterable[str]
) -> None:
    """Remember the bytes a production datastore holds for ``version``."""
    insert_missing(
        ctx.session,
        cast(Table, schema.ProductionObject.__table__),
        [{"digest": d, "dataset_version_id": version.id} for d in dict.fromkeys(digests)],
    )


def refuse_production_bytes(ctx: Context, digests: Iterable[str], where: str) -> None:
    """Refuse, outside production, bytes that a production datastore holds for a dataset
    version: a copy of production data is an explicit, audited operation, not an upload."""
    unique = list(dict.fromkeys(digests))
    for start in range(0, len(unique), _CHUNK):
        found = ctx.session.scalar(
            select(schema.ProductionObject.digest)
            .where(schema.ProductionObject.digest.in_(unique[start : start + _CHUNK]))
            .limit(1)
        )
        if found is not None:
            raise PermissionDenied(
                f"object {found} holds production data (a dataset version of a production "
                f"datastore has these bytes), so it cannot be stored in or named by {where} "
                f"({ISOLATION_RULE})",
                details={"rule": "production-isolation", "digest": found},
            )


def put_named_objects(ctx: Context, objects: Mapping[str, bytes]) -> None:
    """Store objects sent with the digest they claim (whoever sends them was allowed to
    upload, and now may name them): refused whole, before anything is stored, if one does
    not match. Each is durable when ``put_bytes`` returns, so a record committed after this
    names stored data."""
    for digest, data in objects.items():
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise InvalidInput(
                f"object {digest}: its bytes hash to {actual}; nothing was stored",
                details={"digest": digest},
            )
    store = ctx.artifacts
    with storage_errors("the artifact store", location_of(store)):
        for data in objects.values():
            store.put_bytes(data)
    if not ctx.is_platform_admin():
        claim_objects(ctx, objects)
