"""Pipeline cache operations. Each function is one operation: ``(ctx, request) -> response``.

Looking up and recording cache entries needs ``pipeline.run`` in the environment. Lookups
are batched: one call resolves a whole pipeline, chaining keys through the outputs of the
nodes that hit, so a fully cached re-run costs one round trip for its keys. A pipeline's run
is recorded in batches too (``record_pipeline_run``): its finished nodes — child runs, cache
entries, lineage — in one transaction and one audit event per call, not per node; the child
runs are written by the tracking service (``tracking.bulk``), which owns those tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lineage import Edge, add_edges
from modelwright.core.lookup import get_environment
from modelwright.errors import InvalidInput
from modelwright.objects.service import put_named_objects, require_nameable
from modelwright.pipelines import models as m
from modelwright.pipelines.hashing import cache_key
from modelwright.store import schema
from modelwright.store.db import insert_missing
from modelwright.tracking import bulk
from modelwright.tracking import models as tr
from modelwright.tracking import service as tr_svc
from modelwright.tracking.service import writable_run

__all__ = [
    "TAG_CODE",
    "TAG_ENV",
    "TAG_INPUT",
    "lookup_cache",
    "record_cache",
    "record_pipeline_run",
]

# Tags on a node's child run naming the parts of its cache key, so a later miss can say
# what changed.
TAG_CODE = "modelwright.cache.code"
TAG_ENV = "modelwright.cache.environment"
TAG_INPUT = "modelwright.cache.input."
# Why a node ran, came from the cache or failed, as its run's report said (the UI shows it).
TAG_REASON = "modelwright.reason"


def _entry(ctx: Context, env_id: int, key: str) -> schema.NodeCacheEntry | None:
    return ctx.session.scalar(
        select(schema.NodeCacheEntry).where(
            schema.NodeCacheEntry.environment_id == env_id,
            schema.NodeCacheEntry.cache_key == key,
        )
    )


def lookup_cache(ctx: Context, req: m.LookupCache) -> list[m.NodeStatus]:
    ctx.require(Action.PIPELINE_RUN, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    digests: dict[tuple[str, str], str] = {}  # (node, output) → digest, for nodes that hit
    out: list[m.NodeStatus] = []
    for n in req.nodes:
        inputs = dict(n.inputs)
        waiting = sorted({p for name, p in n.upstream.items() if (p, name) not in digests})
        if waiting:
            out.append(
                m.NodeStatus(
                    node=n.node,
                    hit=False,
                    cache_key=None,
                    reason=f"upstream node {', '.join(map(repr, waiting))} runs first",
                )
            )
            continue
        inputs.update({name: digests[(p, name)] for name, p in n.upstream.items()})
        key = cache_key(code=n.code, inputs=inputs, outputs=n.outputs, environment=req.fingerprint)
        row = _entry(ctx, env.id, key)
        if row is None:
            out.append(
                m.NodeStatus(
                    node=n.node,
                    hit=False,
                    cache_key=key,
                    inputs=inputs,
                    reason=_why_missed(ctx, env.id, req, n, inputs),
                )
            )
            continue
        outputs = {k: m.OutputObject.model_validate(v) for k, v in row.outputs.items()}
        for name, obj in outputs.items():
            digests[(n.node, name)] = obj.digest
        out.append(
            m.NodeStatus(
                node=n.node,
                hit=True,
                cache_key=key,
                run_id=row.run_id,
                outputs=outputs,
                inputs=inputs,
                reason=f"same code, inputs, parameters and environment as run {row.run_id}",
            )
        )
    return out


def _why_missed(
    ctx: Context, env_id: int, req: m.LookupCache, n: m.NodeLookup, inputs: dict[str, str]
) -> str:
    last = ctx.session.scalar(
        select(schema.NodeCacheEntry)
        .where(
            schema.NodeCacheEntry.environment_id == env_id,
            schema.NodeCacheEntry.pipeline == req.pipeline,
            schema.NodeCacheEntry.node == n.node,
        )
        .order_by(schema.NodeCacheEntry.created_at.desc(), schema.NodeCacheEntry.id.desc())
        .limit(1)
    )
    if last is None:
        return "no earlier successful execution in this environment"
    tags = dict(
        ctx.session.execute(
            select(schema.RunTag.key, schema.RunTag.value).where(
                schema.RunTag.run_id == last.run_id, schema.RunTag.key.like("modelwright.cache.%")
            )
        ).all()
    )
    if not tags:
        return f"code, inputs, parameters or environment changed since run {last.run_id}"
    changed = []
    if tags.get(TAG_CODE) != n.code:
        changed.append("code changed")
    if tags.get(TAG_ENV) != environment_tag(req.fingerprint):
        changed.append("environment changed")
    before = {k.removeprefix(TAG_INPUT): v for k, v in tags.items() if k.startswith(TAG_INPUT)}
    for name in sorted(set(before) | set(inputs)):
        if before.get(name) != inputs.get(name):
            what = "parameter" if name.startswith("params:") or name == "parameters" else "input"
            changed.append(f"{what} '{name.removeprefix('params:')}' changed")
    if not changed:
        changed.append("outputs changed")
    return f"{'; '.join(changed)} since run {last.run_id}"


def environment_tag(fingerprint: str) -> str:
    """The value of ``TAG_ENV``: a short stand-in for the fingerprint."""
    return cache_key(code="", inputs={}, outputs=[], environment=fingerprint)


def record_cache(ctx: Context, req: m.RecordCache) -> m.RecordedCache:
    ctx.require(Action.PIPELINE_RUN, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    require_nameable(ctx, [o.digest for e in req.entries for o in e.outputs.values()], env)
    created = _insert_cache_entries(ctx, env.id, req.pipeline, req.entries)
    edges: list[Edge] = [
        ("artifact", d, "run", e.run_id, "input") for e in req.entries for d in e.inputs
    ]
    add_edges(ctx, env.workspace_id, edges)
    ctx.audit(
        "pipeline.cache.record",
        workspace=req.workspace,
        environment=req.environment,
        target=f"pipeline/{req.pipeline}",
        after={"nodes": [e.node for e in req.entries][:100], "created": created},
    )
    return m.RecordedCache(created=created, existing=len(req.entries) - created)


def record_pipeline_run(ctx: Context, req: m.RecordPipelineRun) -> m.PipelineRunRecorded:
    """A pipeline run's progress in one transaction: its finished nodes as child runs (run,
    params, tags, metrics, output artifacts, cache entries, lineage), its own params and
    artifacts, its end; small objects they name, and the run's environment snapshot when
    its start had none. The runner sends one call per batch of nodes, not calls per node.
    The tracking tables are written by the tracking service, in bulk."""
    parent = writable_run(ctx, req.run_id)
    # A heartbeat of the run, and of its nodes that run now (a record without nodes is one).
    bulk.heartbeat_with_children(ctx, parent)
    if req.objects:
        # pipeline.run in the run's environment (just checked) lets a principal upload.
        put_named_objects(ctx, req.objects)
    if req.snapshot is not None:
        bulk.set_snapshot(parent, req.snapshot)
    created = _record_nodes(ctx, parent, req) if req.nodes else 0
    # What log_batch, log_artifacts and end_run do, on the run checked above once (each of
    # those looks the run up again and renders it for its answer).
    if req.params:
        tr_svc.log_params_row(ctx, parent, req.params)
    if req.artifacts:
        tr_svc.log_artifacts_row(ctx, parent, req.artifacts)
    if req.end is not None:
        tr_svc.end_run_row(ctx, parent, req.end.status, req.end.error)
    return m.PipelineRunRecorded(
        run_ids={n.node: n.run_id for n in req.nodes},
        cache_entries=created,
        status=cast(tr.RunStatus, parent.status),
    )


def _record_nodes(ctx: Context, parent: schema.Run, req: m.RecordPipelineRun) -> int:
    ws, env = parent.experiment.workspace, parent.environment
    ids = [n.run_id for n in req.nodes]
    if len(set(ids)) != len(ids):
        raise InvalidInput("nodes: two nodes name the same run_id", details={"field": "nodes"})
    if len({n.node for n in req.nodes}) != len(req.nodes):
        raise InvalidInput("nodes: a node is named twice", details={"field": "nodes"})
    bulk.record_child_runs(ctx, parent, [_child_run(n) for n in req.nodes])
    created = _insert_cache_entries(ctx, env.id, req.pipeline, req.nodes)
    ctx.audit(
        "pipeline.nodes.record",
        workspace=ws.name,
        environment=env.name,
        target=f"run/{parent.id}",
        after={
            "runs": {n.node: n.run_id for n in req.nodes[:100]},
            "status": {n.node: n.status for n in req.nodes[:100] if n.status != "finished"},
            "cache_entries": created,
        },
    )
    return created


def _child_run(n: m.NodeRun) -> bulk.ChildRun:
    """A node's run as the tracking service records it: its outputs as artifacts
    ``outputs/<name>``."""
    return bulk.ChildRun(
        run_id=n.run_id,
        name=n.node,
        status=n.status,
        started_at=n.started_at,
        ended_at=n.ended_at,
        error=n.error,
        started=n.started,
        params=n.params,
        tags=n.tags,
        metrics=n.metrics,
        files=[bulk.RunFile(f"outputs/{k}", o.digest, o.size) for k, o in n.outputs.items()],
        inputs=n.inputs,
    )


def _insert_cache_entries(
    ctx: Context, env_id: int, pipeline: str, nodes: Sequence[m.CacheEntry | m.NodeRun]
) -> int:
    """Cache entries for ``nodes`` with a key, but for keys the environment has already (the
    first node of a key wins); how many were created."""
    entries: dict[str, m.CacheEntry | m.NodeRun] = {}
    for n in nodes:
        if n.cache_key is not None:
            entries.setdefault(n.cache_key, n)
    if not entries:
        return 0
    existing = set(
        ctx.session.scalars(
            select(schema.NodeCacheEntry.cache_key).where(
                schema.NodeCacheEntry.environment_id == env_id,
                schema.NodeCacheEntry.cache_key.in_(list(entries)),
            )
        )
    )
    now = utcnow()
    rows = [
        {
            "environment_id": env_id,
            "pipeline": pipeline,
            "node": n.node,
            "cache_key": key,
            "run_id": n.run_id,
            "outputs": {k: o.model_dump() for k, o in n.outputs.items()},
            "created_at": now,
        }
        for key, n in entries.items()
        if key not in existing
    ]
    if rows:
        # Another run may record the same key meanwhile (PostgreSQL does not serialise the
        # two transactions): the first entry stays, and this batch does not fail for it.
        insert_missing(ctx.session, cast(Table, schema.NodeCacheEntry.__table__), rows)
    return len(rows)
