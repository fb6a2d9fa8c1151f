"""Record lineage edges (inside the mutations that create them) and walk them."""

from __future__ import annotations

from sqlalchemy import func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.lookup import visible_workspace
from modelwright.errors import InvalidInput, NotFound
from modelwright.lineage import models as m
from modelwright.objects.service import artifact_readable
from modelwright.registry.uri import model_uri
from modelwright.store import schema
from modelwright.tracking.service import find_run

__all__ = ["lineage"]


def lineage(ctx: Context, req: m.LineageRequest) -> m.Lineage:
    ws = visible_workspace(ctx, req.workspace)
    if not _reads_anywhere(ctx, ws):
        ctx.require(Action.DATA_READ, ws.name)
    kind, ident = _resolve(ctx, ws, req.entity)
    root = _node(ctx, kind, ident, "")
    if root.hidden:
        raise NotFound(
            f"{req.entity} not found in workspace '{ws.name}' (or not readable by "
            f"'{ctx.caller.name}')",
            details={"entity": req.entity},
        )
    descendants = _walk(ctx, ws.id, kind, ident, up=False, depth=req.depth, seen={(kind, ident)})
    return m.Lineage(
        entity=root,
        ancestors=_walk(ctx, ws.id, kind, ident, up=True, depth=req.depth, seen={(kind, ident)}),
        descendants=descendants,
        impact=_impact(ctx, root, descendants) if req.impact else None,
    )


def _flatten(nodes: list[m.LineageNode]) -> list[m.LineageNode]:
    out = []
    for n in nodes:
        out += [n, *_flatten(n.children)]
    return out


def _impact(ctx: Context, root: m.LineageNode, descendants: list[m.LineageNode]) -> m.Impact:
    """Downstream model versions, the deployments serving them (or the entity, a model
    version itself) now, and derived datasets."""
    nodes = _flatten(descendants)
    versions = {
        int(n.id): ctx.session.get(schema.ModelVersion, int(n.id))
        for n in [root, *nodes]
        if n.kind == "model_version" and not n.hidden and n.id.isdigit()
    }
    uris = {vid: model_uri(v.model.name, v.version) for vid, v in versions.items() if v is not None}
    served = []
    if uris:
        for d in ctx.session.scalars(
            select(schema.EndpointDeployment).where(schema.EndpointDeployment.version_id.in_(uris))
        ):
            env = d.endpoint.environment
            if _reads(ctx, env) or ctx.allowed(
                Action.ENDPOINT_DEPLOY, env.workspace.name, env.name
            ):
                served.append(
                    m.ServedBy(
                        environment=env.name,
                        endpoint=d.endpoint.name,
                        deployment=d.name,
                        weight=d.weight,
                        model=uris[d.version_id],
                    )
                )
    datasets = []
    for n in nodes:
        if n.kind == "dataset_version" and not n.hidden:
            dv = ctx.session.get(schema.DatasetVersion, int(n.id))
            if dv is not None:
                datasets.append(f"{dv.dataset.environment.name}/{dv.dataset.name}@v{dv.version}")
    return m.Impact(
        model_versions=sorted(set(uris.values()) - {root.ref}),
        endpoints=sorted(served, key=lambda s: (s.environment, s.endpoint, s.deployment)),
        datasets=sorted(set(datasets)),
        hidden=sum(n.hidden for n in nodes),
    )


def _reads_anywhere(ctx: Context, ws: schema.Workspace) -> bool:
    return any(ctx.allowed(Action.DATA_READ, ws.name, e.name) for e in ws.environments)


def _resolve(ctx: Context, ws: schema.Workspace, entity: str) -> tuple[str, str]:
    if entity.startswith("models:/"):
        return "model_version", _model_uri_version_id(ctx, ws, entity)
    kind, sep, ref = entity.partition(":")
    if not sep or not ref:
        raise InvalidInput(
            "entity: expected run:<id>, dataset:<environment>/<name>@<version>, "
            "artifact:<sha256> or model:<name>/<version>",
            details={"field": "entity"},
        )
    if kind == "run":
        run = find_run(ctx, ref, workspace_id=ws.id)
        if run is None:
            raise NotFound(
                f"run '{ref}' not found in workspace '{ws.name}'", details={"run_id": ref}
            )
        return "run", run.id
    if kind == "dataset":
        from modelwright.data.service import find_version

        env, slash, name_ref = ref.partition("/")
        if not slash:
            raise InvalidInput(
                "entity: a dataset is named as dataset:<environment>/<name>@<version>",
                details={"field": "entity"},
            )
        version = find_version(ctx, ws.name, env, name_ref)
        return "dataset_version", str(version.id)
    if kind == "artifact":
        return "artifact", ref
    if kind == "model":
        return "model_version", _model_version_id(ctx, ws, ref)
    raise InvalidInput(
        f"entity: unknown kind {kind!r} (run, dataset, artifact, model)",
        details={"field": "entity"},
    )


def _model_uri_version_id(ctx: Context, ws: schema.Workspace, uri: str) -> str:
    """``models:/churn/3``, ``models:/churn/latest`` or ``models:/[env/]churn@alias`` (an
    alias in the named environment, else the acting one, else the workspace's first)."""
    from modelwright.registry import models as rm
    from modelwright.registry.aliases import resolve_alias
    from modelwright.registry.uri import parse_model_uri

    try:
        ref = parse_model_uri(uri)
    except InvalidInput as exc:
        raise InvalidInput(
            f"entity: {exc.message.removeprefix('uri: ')}", details={"field": "entity"}
        ) from None
    if ref.alias is not None:
        env = ref.environment or ctx.acting or min(ws.environments, key=lambda e: e.position).name
        req = rm.AliasRef(workspace=ws.name, name=ref.name, alias=ref.alias, environment=env)
        return _model_version_id(ctx, ws, f"{ref.name}/{resolve_alias(ctx, req).version}")
    if ref.latest:
        latest = ctx.session.scalar(
            select(func.max(schema.ModelVersion.version))
            .join(schema.RegisteredModel)
            .where(
                schema.RegisteredModel.workspace_id == ws.id,
                schema.RegisteredModel.name == ref.name,
            )
        )
        if latest is None:
            raise NotFound(
                f"model '{ref.name}' not found in workspace '{ws.name}'",
                details={"model": ref.name},
            )
        return _model_version_id(ctx, ws, f"{ref.name}/{latest}")
    return _model_version_id(ctx, ws, f"{ref.name}/{ref.version}")


def _model_version_id(ctx: Context, ws: schema.Workspace, ref: str) -> str:
    name, slash, number = ref.partition("/")
    if not slash or not number.lstrip("v").isdigit():
        raise InvalidInput(
            "entity: a model version is named as model:<name>/<version>",
            details={"field": "entity"},
        )
    version = ctx.session.scalar(
        select(schema.ModelVersion)
        .join(schema.RegisteredModel)
        .where(
            schema.RegisteredModel.workspace_id == ws.id,
            schema.RegisteredModel.name == name,
            schema.ModelVersion.version == int(number.lstrip("v")),
        )
    )
    if version is None:
        raise NotFound(
            f"model version '{name}/{number}' not found in workspace '{ws.name}'",
            details={"model": name, "version": number},
        )
    return str(version.id)


def _walk(
    ctx: Context,
    workspace_id: int,
    kind: str,
    ident: str,
    *,
    up: bool,
    depth: int,
    seen: set[tuple[str, str]],
) -> list[m.LineageNode]:
    if depth == 0:
        return []
    E = schema.LineageEdge
    if up:
        q = select(E.source_kind, E.source_id, E.relation).where(
            E.target_kind == kind, E.target_id == ident
        )
    else:
        q = select(E.target_kind, E.target_id, E.relation).where(
            E.source_kind == kind, E.source_id == ident
        )
    # A version promoted into another workspace is a copy there, joined to its origin by a
    # model_version → model_version edge recorded in the target workspace: followed from
    # either side, and the walk goes on in the workspace of the version it reaches.
    copies = (E.source_kind == "model_version") & (E.target_kind == "model_version")
    q = q.where((E.workspace_id == workspace_id) | copies).order_by(E.id)
    out = []
    for nk, nid, rel in ctx.session.execute(q).all():
        if (nk, nid) in seen:
            continue
        node = _node(ctx, nk, nid, rel)
        home = _home(ctx, nk, nid, workspace_id)
        node.children = _walk(ctx, home, nk, nid, up=up, depth=depth - 1, seen=seen | {(nk, nid)})
        out.append(node)
    return out


def _home(ctx: Context, kind: str, ident: str, default: int) -> int:
    """The workspace whose edges continue the walk from a node: a model version's own."""
    if kind == "model_version" and ident.isdigit():
        version = ctx.session.get(schema.ModelVersion, int(ident))
        if version is not None:
            return version.model.workspace_id
    return default


def _node(ctx: Context, kind: str, ident: str, relation: str) -> m.LineageNode:
    """A node as the caller may see it: one in an environment it may not read keeps its
    kind and place in the graph, never its id, name, digest or status."""
    label = ident
    ref = f"{kind}:{ident}"
    readable = True
    if kind == "run":
        run = ctx.session.get(schema.Run, ident)
        if run is not None:
            readable = _reads(ctx, run.environment)
            label = f"run {run.name or run.id[:8]} ({run.experiment.name}, {run.environment.name}, {run.status})"
    elif kind == "dataset_version":
        dv = ctx.session.get(schema.DatasetVersion, int(ident))
        if dv is not None:
            readable = _reads(ctx, dv.dataset.environment)
            name = f"{dv.dataset.environment.name}/{dv.dataset.name}@v{dv.version}"
            label, ref = f"dataset {name} ({dv.digest[:12]})", f"dataset:{name}"
    elif kind == "artifact":
        readable = artifact_readable(ctx, ident)
        path = ctx.session.scalar(
            select(schema.RunArtifact.path).where(schema.RunArtifact.digest == ident).limit(1)
        )
        label = f"artifact {path or ''} ({ident[:12]})".replace("  ", " ")
    elif kind == "model_version" and ident.isdigit():
        mv = ctx.session.get(schema.ModelVersion, int(ident))
        if mv is not None:
            readable = _version_readable(ctx, mv)
            label = f"model {mv.model.name}/v{mv.version} ({mv.flavor}, {mv.environment.name}, {mv.digest[:12]})"
            ref = model_uri(mv.model.name, mv.version)
    if not readable:
        return m.LineageNode(
            kind=kind, id="", label=f"{kind} (not readable)", relation=relation, hidden=True
        )
    return m.LineageNode(kind=kind, id=ident, label=label, relation=relation, ref=ref)


def _reads(ctx: Context, env: schema.Environment) -> bool:
    return ctx.allowed(Action.DATA_READ, env.workspace.name, env.name)


def _version_readable(ctx: Context, version: schema.ModelVersion) -> bool:
    """Readable where it is available: registered there or promoted to."""
    envs = ctx.session.scalars(
        select(schema.Environment)
        .join(
            schema.ModelVersionEnvironment,
            schema.ModelVersionEnvironment.environment_id == schema.Environment.id,
        )
        .where(schema.ModelVersionEnvironment.version_id == version.id)
    ).all()
    return any(_reads(ctx, e) for e in envs)
