"""Dataset operations. Each function is one operation: ``(ctx, request) -> response``.

Who may do what: registering needs ``data.write`` in the dataset's environment, reading
needs ``data.read`` there. Bytes never travel through these operations: the client asks
``prepare_upload`` which objects the datastore lacks, puts them, then ``register_dataset``
checks they are all there, computes schema and profile from the stored bytes and records
the version. Registrations are audited; reads are not.

A run named by an operation gets a lineage edge (the version as its output or input), so
it must be running and the caller needs ``pipeline.run`` in its environment, as for logging.

Data isolation: an operation acts from the environment of the run it names, else from the
one the caller declares (``Context.acting``). Production data is never reachable from
non-production environments, whatever the caller's grants (``PermissionDenied``,
``details.rule == "production-isolation"``: an access refusal that no change of state can
lift, not a conflict):

- reading a dataset of a production datastore needs a production acting environment; a
  caller that declares none is refused too (the raw object routes apply the same rule);
- a run or declared environment outside production may not write production data;
- bytes that a production datastore holds for a version (``production_objects``, indexed
  at registration) are never registered or uploaded into a non-production datastore.

The checks run before any byte moves (``prepare_upload``) and again when the version is
recorded or read. Otherwise a run may use datasets of other environments of its workspace
as the caller's grants allow.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lineage import add_edges
from modelwright.core.lookup import get_workspace, require_member
from modelwright.core.pages import Page
from modelwright.data import models as m
from modelwright.data._lookup import (
    check_dataset_isolation,
    dataset_info,
    dataset_named,
    datastore_named,
    find_version,
    readable_env,
    version_info,
    version_named,
    version_summary,
    writable_env,
)
from modelwright.data._packs import check_pack_sizes
from modelwright.data.diff import DatasetDiff, diff_versions
from modelwright.data.manifest import load_manifest, objects_of
from modelwright.data.tabular import TABULAR
from modelwright.errors import Conflict, InvalidInput
from modelwright.objects.service import (
    ISOLATION_RULE,
    index_production_objects,
    refuse_production_bytes,
)
from modelwright.store import schema
from modelwright.tracking.service import writable_run

__all__ = [
    "ISOLATION_RULE",
    "copy_dataset",
    "diff_datasets",
    "find_version",
    "get_dataset",
    "get_version",
    "list_datasets",
    "load_dataset",
    "prepare_upload",
    "register_dataset",
]


def prepare_upload(ctx: Context, req: m.PrepareUpload) -> m.UploadPlan:
    env = writable_env(ctx, req.workspace, req.environment)
    datastore = datastore_named(env, req.datastore)
    run = writable_run(ctx, req.run_id) if req.run_id else None
    check_dataset_isolation(ctx, run, datastore, req.name, "write")
    if datastore.classification != "production":
        refuse_production_bytes(ctx, req.digests, f"datastore '{datastore.name}'")
    store = ctx.open_store(datastore.url)
    return m.UploadPlan(datastore=datastore.name, missing=store.missing(req.digests))


def register_dataset(ctx: Context, req: m.RegisterDataset) -> m.DatasetVersionInfo:
    return _register(ctx, req)


def _register(
    ctx: Context, req: m.RegisterDataset, copy_of: schema.DatasetVersion | None = None
) -> m.DatasetVersionInfo:
    """Record a version of objects already in the datastore; ``copy_of``: the version they
    were copied from by ``copy_dataset``, which alone may bring production bytes out."""
    env = writable_env(ctx, req.workspace, req.environment)
    datastore = datastore_named(env, req.datastore)
    run = writable_run(ctx, req.run_id) if req.run_id else None
    check_dataset_isolation(ctx, run, datastore, req.name, "write")
    if req.kind == "dataframe" and req.format != "parquet":
        raise InvalidInput("format: a DataFrame is stored as parquet", details={"field": "format"})
    store = ctx.open_store(datastore.url)
    if store.missing([req.digest]):
        raise InvalidInput(
            f"digest: object {req.digest} is not in datastore '{datastore.name}': upload it "
            "before registering it",
            details={"field": "digest", "digest": req.digest},
        )
    entries = None
    if req.kind == "directory":
        entries = load_manifest(store.get_bytes(req.digest))
        absent = store.missing(objects_of(entries))
        if absent:
            raise InvalidInput(
                f"digest: {len(absent)} object(s) of the directory are not in datastore "
                f"'{datastore.name}' (e.g. {absent[0]}): upload them before registering",
                details={"field": "digest", "missing": absent[:20]},
            )
        check_pack_sizes(store, entries)
        size, files = sum(e.size for e in entries), len(entries)
    else:
        size, files = store.size(req.digest), 1
    # Every object and file of the version: what production's index holds or is checked for.
    digests = [req.digest]
    if entries is not None:
        digests += objects_of(entries) + [e.digest for e in entries]
    if datastore.classification != "production" and copy_of is None:
        refuse_production_bytes(ctx, digests, f"datastore '{datastore.name}'")

    dataset = _get_or_create_dataset(ctx, env, req.name, req.description)
    latest = ctx.session.scalar(
        select(schema.DatasetVersion)
        .where(schema.DatasetVersion.dataset_id == dataset.id)
        .order_by(schema.DatasetVersion.version.desc())
        .limit(1)
    )
    if latest is not None and (latest.digest, latest.datastore_id, latest.kind, latest.format) == (
        req.digest,
        datastore.id,
        req.kind,
        req.format,
    ):
        # The same content again: the latest version already is what is being registered.
        _record_output(ctx, run, latest)
        return version_info(latest, created=False)

    columns, profile = None, None
    if req.format in TABULAR:
        from modelwright.data.describe import describe  # pandas/pyarrow only when profiling

        columns, profile = describe(store, req.kind, req.format, req.digest, entries)
    # Never a deleted version's number: `name@v3` names one version for good.
    number = max(latest.version if latest else 0, dataset.last_version) + 1
    dataset.last_version = number
    row = schema.DatasetVersion(
        dataset=dataset,
        version=number,
        digest=req.digest,
        datastore=datastore,
        kind=req.kind,
        format=req.format,
        size=size,
        files=files,
        schema_=[c.model_dump() for c in columns] if columns is not None else None,
        profile=profile.model_dump(exclude_none=True) if profile is not None else None,
        created_at=utcnow(),
        created_by=ctx.caller.name,
        run_id=run.id if run else None,
    )
    ctx.session.add(row)
    try:
        with ctx.session.begin_nested():
            ctx.session.flush()
    except IntegrityError:
        raise Conflict(
            f"dataset '{req.name}' got a new version from another registration at the same "
            "time; register again",
            details={"dataset": req.name},
        ) from None
    if datastore.classification == "production":
        index_production_objects(ctx, row, digests)
    ctx.event(
        "dataset_version.registered",
        workspace=req.workspace,
        environment=req.environment,
        subject=f"dataset/{req.workspace}/{req.environment}/{req.name}@v{row.version}",
        data={"dataset": req.name, "version": row.version, "digest": req.digest},
    )
    if copy_of is None:
        ctx.audit(
            "dataset.register",
            workspace=req.workspace,
            environment=req.environment,
            target=f"dataset/{req.workspace}/{req.environment}/{req.name}@v{row.version}",
            after={
                "digest": req.digest,
                "datastore": datastore.name,
                "kind": req.kind,
                "format": req.format,
                "size": size,
                "files": files,
                "run_id": row.run_id,
            },
        )
    _record_output(ctx, run, row)
    return version_info(row, created=True)


def _get_or_create_dataset(
    ctx: Context, env: schema.Environment, name: str, description: str
) -> schema.Dataset:
    q = select(schema.Dataset).where(
        schema.Dataset.environment_id == env.id, schema.Dataset.name == name
    )
    # Locked (on PostgreSQL) so that concurrent registrations number versions one by one.
    dataset = ctx.session.scalar(q.with_for_update())
    if dataset is None:
        dataset = schema.Dataset(
            environment=env,
            name=name,
            description=description,
            created_at=utcnow(),
            created_by=ctx.caller.name,
        )
        try:
            with ctx.session.begin_nested():
                ctx.session.add(dataset)
                ctx.session.flush()
        except IntegrityError:
            raise Conflict(
                f"dataset '{name}' was created by another registration at the same time; "
                "register again",
                details={"dataset": name},
            ) from None
    elif description and description != dataset.description:
        ctx.audit(
            "dataset.update",
            workspace=env.workspace.name,
            environment=env.name,
            target=f"dataset/{env.workspace.name}/{env.name}/{name}",
            before={"description": dataset.description},
            after={"description": description},
        )
        dataset.description = description
    return dataset


def _record_output(ctx: Context, run: schema.Run | None, row: schema.DatasetVersion) -> None:
    if run is not None:
        add_edges(
            ctx,
            run.experiment.workspace_id,
            [("run", run.id, "dataset_version", str(row.id), "output")],
        )


def copy_dataset(ctx: Context, req: m.CopyDataset) -> m.DatasetVersionInfo:
    """Copy a version into another environment as a new version, by a principal allowed to
    read both (and to write the target). The bytes move store to store on the server; the
    audit names the source, the target and the reason, and whether production data left
    production."""
    src_env = readable_env(ctx, req.workspace, req.environment)
    src = version_named(ctx, dataset_named(ctx, src_env, req.name), m.parse_version(req.version))
    to_ws = req.to_workspace or req.workspace
    ctx.require(Action.DATA_READ, to_ws, req.to_environment)
    env = writable_env(ctx, to_ws, req.to_environment)
    datastore = datastore_named(env, req.to_datastore)
    source, target = ctx.open_store(src.datastore.url), ctx.open_store(datastore.url)
    digests = [src.digest]
    if src.kind == "directory":
        digests += objects_of(load_manifest(source.get_bytes(src.digest)))
    for digest in dict.fromkeys(digests):
        if not target.exists(digest):
            copied = target.put_stream(source.iter_chunks(digest))
            if copied != digest:
                raise InvalidInput(
                    f"object {digest} of {_ref(src)} is corrupted in datastore "
                    f"'{src.datastore.name}' (its bytes hash to {copied}); nothing was copied",
                    details={"digest": digest},
                )
    name = req.to_name or req.name
    info = _register(
        ctx,
        m.RegisterDataset(
            workspace=to_ws,
            environment=env.name,
            name=name,
            datastore=datastore.name,
            kind=src.kind,
            format=src.format,
            digest=src.digest,
            description=src.dataset.description,
        ),
        copy_of=src,
    )
    if not info.created:
        return info  # the target's latest version has these bytes already: nothing changed
    leaves = src.datastore.classification == "production" and (
        datastore.classification != "production"
    )
    ctx.audit(
        "dataset.copy",
        workspace=to_ws,
        environment=env.name,
        target=f"dataset/{to_ws}/{env.name}/{name}@v{info.version}",
        before={"source": f"dataset/{_ref(src)}", "datastore": src.datastore.name},
        after={
            "digest": src.digest,
            "datastore": datastore.name,
            "reason": req.reason,
            "leaves_production": leaves,
        },
    )
    return info


def _ref(v: schema.DatasetVersion) -> str:
    env = v.dataset.environment
    return f"{env.workspace.name}/{env.name}/{v.dataset.name}@v{v.version}"


def load_dataset(ctx: Context, req: m.LoadDataset) -> m.DatasetVersionInfo:
    """A version about to be read: checked against isolation (from the run's environment, or
    the one the caller acts in) and, with a run, recorded as the run's input."""
    env = readable_env(ctx, req.workspace, req.environment)
    row = version_named(ctx, dataset_named(ctx, env, req.name), m.parse_version(req.version))
    run = writable_run(ctx, req.run_id) if req.run_id else None
    check_dataset_isolation(ctx, run, row.datastore, req.name, "read")
    if run is not None:
        add_edges(
            ctx,
            run.experiment.workspace_id,
            [("dataset_version", str(row.id), "run", run.id, "input")],
        )
    return version_info(row)


def get_version(ctx: Context, req: m.DatasetVersionRef) -> m.DatasetVersionInfo:
    env = readable_env(ctx, req.workspace, req.environment)
    return version_info(
        version_named(ctx, dataset_named(ctx, env, req.name), m.parse_version(req.version))
    )


def get_dataset(ctx: Context, req: m.DatasetRef) -> m.DatasetDetail:
    env = readable_env(ctx, req.workspace, req.environment)
    dataset = dataset_named(ctx, env, req.name)
    history = [version_summary(v) for v in dataset.versions]
    return m.DatasetDetail(
        **dataset_info(dataset, len(history), history[-1] if history else None).model_dump(),
        history=history,
    )


def list_datasets(ctx: Context, req: m.ListDatasets) -> Page[m.DatasetInfo]:
    ws = get_workspace(ctx, req.workspace)
    if req.environment is not None:
        envs = [readable_env(ctx, ws.name, req.environment)]
    else:
        envs = [e for e in ws.environments if ctx.allowed(Action.DATA_READ, ws.name, e.name)]
        if not envs:
            require_member(ctx, ws.name)
            ctx.require(Action.DATA_READ, ws.name)
    D = schema.Dataset
    datasets, token = keyset_page(
        ctx.session,
        select(D).where(D.environment_id.in_([e.id for e in envs])),
        [Key(D.environment_id), Key(D.name)],
        req,
        scope="datasets",
    )
    V = schema.DatasetVersion
    top = (  # the latest version and the count, for this page's datasets only
        select(V.dataset_id, func.max(V.version).label("version"), func.count().label("n"))
        .where(V.dataset_id.in_([d.id for d in datasets]))
        .group_by(V.dataset_id)
        .subquery()
    )
    latest = {
        v.dataset_id: (v, n)
        for v, n in ctx.session.execute(
            select(V, top.c.n).join(
                top, (V.dataset_id == top.c.dataset_id) & (V.version == top.c.version)
            )
        )
    }
    out = []
    for d in datasets:
        v, n = latest.get(d.id, (None, 0))
        out.append(dataset_info(d, n, version_summary(v) if v is not None else None))
    return Page(items=out, next_page_token=token)


def diff_datasets(ctx: Context, req: m.DiffDatasets) -> DatasetDiff:
    a = find_version(ctx, req.workspace, req.environment, req.a)
    b = find_version(ctx, req.workspace, req.environment, req.b)
    return diff_versions(version_info(a), version_info(b))
