"""Pipeline cache operations. Each function is one operation: ``(ctx, request) -> response``.

Looking up and recording cache entries needs ``pipeline.run`` in the environment. Lookups
are batched: one call resolves a whole pipeline, chaining keys through the outputs of the
nodes that hit, so a fully cached re-run costs one round trip for its keys.
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lineage import Edge, add_edges
from modelwright.core.lookup import get_environment
from modelwright.objects.service import require_objects
from modelwright.pipelines import models as m
from modelwright.pipelines.hashing import cache_key
from modelwright.store import schema
from modelwright.tracking.service import writable_run

__all__ = ["TAG_CODE", "TAG_ENV", "TAG_INPUT", "lookup_cache", "record_cache", "record_cached_runs"]

# Tags on a node's child run naming the parts of its cache key, so a later miss can say
# what changed.
TAG_CODE = "modelwright.cache.code"
TAG_ENV = "modelwright.cache.environment"
TAG_INPUT = "modelwright.cache.input."


def _entry(ctx: Context, env_id: int, key: str) -> schema.NodeCacheEntry | None:
    return ctx.session.scalar(
        select(schema.NodeCacheEntry).where(
            schema.NodeCacheEntry.environment_id == env_id,
            schema.NodeCacheEntry.cache_key == key,
        )
    )


def lookup_cache(ctx: Context, req: m.LookupCache) -> list[m.NodeStatus]:
    ctx.require(Action.PIPELINE_RUN, req.workspace, req.environment)
    env = get_environment(ctx.session, req.workspace, req.environment)
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
    env = get_environment(ctx.session, req.workspace, req.environment)
    require_objects(ctx, ctx.artifacts, [o.digest for e in req.entries for o in e.outputs.values()])
    keys = [e.cache_key for e in req.entries]
    existing = set(
        ctx.session.scalars(
            select(schema.NodeCacheEntry.cache_key).where(
                schema.NodeCacheEntry.environment_id == env.id,
                schema.NodeCacheEntry.cache_key.in_(keys),
            )
        )
    )
    now = utcnow()
    rows = []
    for e in req.entries:
        if e.cache_key in existing:
            continue
        existing.add(e.cache_key)
        rows.append(
            {
                "environment_id": env.id,
                "pipeline": req.pipeline,
                "node": e.node,
                "cache_key": e.cache_key,
                "run_id": e.run_id,
                "outputs": {k: o.model_dump() for k, o in e.outputs.items()},
                "created_at": now,
            }
        )
    if rows:
        ctx.session.execute(insert(schema.NodeCacheEntry), rows)
    edges: list[Edge] = [
        ("artifact", d, "run", e.run_id, "input") for e in req.entries for d in e.inputs
    ]
    add_edges(ctx, env.workspace_id, edges)
    ctx.audit(
        "pipeline.cache.record",
        workspace=req.workspace,
        environment=req.environment,
        target=f"pipeline/{req.pipeline}",
        after={"nodes": [e.node for e in req.entries][:100], "created": len(rows)},
    )
    return m.RecordedCache(created=len(rows), existing=len(req.entries) - len(rows))


def record_cached_runs(ctx: Context, req: m.RecordCachedRuns) -> m.CachedRuns:
    """Finished child runs for nodes restored from the cache: tags, params, output artifacts
    and lineage, in one transaction (a fully cached pipeline stays one call)."""
    parent = writable_run(ctx, req.parent_id)
    require_objects(ctx, ctx.artifacts, [o.digest for n in req.nodes for o in n.outputs.values()])
    now = utcnow()
    ids: dict[str, str] = {}
    runs, tags, params, artifacts = [], [], [], []
    edges: list[Edge] = []
    for n in req.nodes:
        run_id = uuid.uuid4().hex
        ids[n.node] = run_id
        runs.append(
            {
                "id": run_id,
                "experiment_id": parent.experiment_id,
                "environment_id": parent.environment_id,
                "parent_id": parent.id,
                "name": n.node,
                "status": "finished",
                "created_by": ctx.caller.name,
                "started_at": now,
                "ended_at": now,
                "error": "",
                "snapshot": {},
            }
        )
        node_tags = {
            "modelwright.node": n.node,
            "modelwright.cache": "hit",
            "modelwright.cache.key": n.cache_key,
            "modelwright.cache.source_run": n.source_run_id,
        }
        tags += [{"run_id": run_id, "key": k, "value": v} for k, v in node_tags.items()]
        params += [{"run_id": run_id, "key": k, "value": v} for k, v in n.params.items()]
        artifacts += [
            {"run_id": run_id, "path": f"outputs/{name}", "digest": o.digest, "size": o.size}
            for name, o in n.outputs.items()
        ]
        edges += [("run", run_id, "artifact", o.digest, "output") for o in n.outputs.values()]
        edges += [("artifact", d, "run", run_id, "input") for d in n.inputs]
    s = ctx.session
    s.execute(insert(schema.Run), runs)
    s.execute(insert(schema.RunTag), tags)
    if params:
        s.execute(insert(schema.RunParam), params)
    if artifacts:
        s.execute(insert(schema.RunArtifact), artifacts)
    add_edges(ctx, parent.experiment.workspace_id, edges)
    ctx.audit(
        "pipeline.cache.restore",
        workspace=parent.experiment.workspace.name,
        environment=parent.environment.name,
        target=f"run/{parent.id}",
        after={"nodes": list(ids)[:100]},
    )
    return m.CachedRuns(run_ids=ids)
