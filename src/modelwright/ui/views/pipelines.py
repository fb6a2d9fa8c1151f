"""Pipelines: the runs of each pipeline, and a pipeline run's DAG with every node's status
(ran, cached, failed, skipped), duration and reason, each node linking to its own run.

A pipeline is not stored as such: its runs are runs tagged ``modelwright.pipeline``, whose
nodes are child runs tagged ``modelwright.node``; the run keeps its DAG as an artifact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from modelwright.api import tracking as tr_ops
from modelwright.errors import error_headline
from modelwright.pipelines.models import DAG_ARTIFACT, DagNode, PipelineDag
from modelwright.pipelines.service import TAG_REASON
from modelwright.ui.views._base import Endpoint, Me, signed_in
from modelwright.ui.views._graph import Edge, Graph, Node, layered, longest_path_layers

__all__ = ["ROUTES"]

PIPELINE_TAG = "modelwright.pipeline"
_NODE_TAG = "modelwright.node"
_DAG_BYTES = 4 * 1024 * 1024
_LIST_LIMIT = 200
# A node after one of these never starts.
_STOPS = {"failed", "skipped"}


@dataclass
class NodeRow:
    """A node of a pipeline's run as its table and its box show it."""

    name: str
    status: str  # ran | cached | failed | skipped | running | pending
    reason: str
    run_id: str | None = None
    duration: float | None = None
    failure: str = ""  # the exception, then where the user's code raised it
    source_run: str = ""  # of a cached node: the run whose outputs it restored


@signed_in
async def pipelines(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    found = await me.call(
        tr_ops.SEARCH_RUNS,
        workspace=workspace,
        filter=f"tags.`{PIPELINE_TAG}` like '%'",
        order_by=["attributes.started_at DESC"],
        max_results=_LIST_LIMIT,
    )
    by_pipeline: dict[str, list[Any]] = {}
    for run in found.items:
        by_pipeline.setdefault(run.tags[PIPELINE_TAG], []).append(run)
    return me.render(
        "pipelines.html",
        workspace=workspace,
        pipelines=sorted(by_pipeline.items()),
        more=found.next_page_token is not None,
    )


@signed_in
async def pipeline_dag(me: Me) -> Response:
    """A fragment of the run page: polled while the run goes, so nodes change as they finish."""
    run = await me.call(tr_ops.GET_RUN, run_id=me.request.path_params["run_id"])
    children = await me.call(
        tr_ops.SEARCH_RUNS,
        workspace=run.workspace,
        filter=f"parent_id = '{run.id}'",
        include_children=True,
        max_results=50_000,
    )
    dag = await run_in_threadpool(_read_dag, me, run)
    rows = _rows(dag, children.items, running=run.status == "running")
    return me.render("pipeline_dag.html", run=run, rows=rows, graph=_graph(dag, rows))


def _read_dag(me: Me, run: Any) -> PipelineDag | None:
    """The DAG the run recorded; None for a run recorded without one."""
    artifact = next((a for a in run.artifacts if a.path == DAG_ARTIFACT), None)
    if artifact is None or artifact.size > _DAG_BYTES:
        return None
    with me.open_artifact(artifact.digest) as fh:
        try:
            return PipelineDag.model_validate_json(fh.read())
        except ValidationError:
            return None


def _rows(dag: PipelineDag | None, children: list[Any], *, running: bool) -> list[NodeRow]:
    by_node = {c.tags.get(_NODE_TAG, c.name): c for c in children}
    nodes = dag.nodes if dag else [DagNode(name=name) for name in by_node]
    rows: dict[str, NodeRow] = {}
    for n in nodes:
        child = by_node.get(n.name)
        if child is None:
            rows[n.name] = _not_run(n, rows, running=running)
        else:
            rows[n.name] = _row(n.name, child)
    return list(rows.values())


def _not_run(n: DagNode, earlier: dict[str, NodeRow], *, running: bool) -> NodeRow:
    stopped = sorted(u for u in n.needs if earlier.get(u) and earlier[u].status in _STOPS)
    if stopped:
        return NodeRow(n.name, "skipped", f"upstream node '{stopped[0]}' did not finish")
    if running:
        return NodeRow(n.name, "pending", "waiting for upstream nodes")
    return NodeRow(n.name, "skipped", "the run ended before it started")


def _row(name: str, child: Any) -> NodeRow:
    reason = child.tags.get(TAG_REASON, "")
    duration = child.metrics.get("duration_s")
    if duration is None and child.ended_at is not None:
        duration = (child.ended_at - child.started_at).total_seconds()
    if child.status == "running":
        return NodeRow(name, "running", reason or "running", child.id)
    if child.status != "finished":
        head, frame = error_headline(child.error)
        failure = f"{head}\n{frame}" if frame else head
        return NodeRow(name, "failed", reason or child.status, child.id, duration, failure)
    if child.tags.get("modelwright.cache") == "hit":
        source = child.tags.get("modelwright.cache.source_run", "")
        return NodeRow(name, "cached", reason, child.id, source_run=source)
    return NodeRow(name, "ran", reason, child.id, duration)


def _graph(dag: PipelineDag | None, rows: list[NodeRow]) -> Graph:
    needs = {n.name: n.needs for n in dag.nodes} if dag else {}
    pairs = [(u, r.name) for r in rows for u in needs.get(r.name, [])]
    layers = longest_path_layers([r.name for r in rows], pairs)
    nodes = [
        Node(
            r.name,
            r.name,
            "node",
            href=f"/runs/{r.run_id}" if r.run_id else "",
            status=r.status,
            note=_seconds(r.duration),
            detail="\n".join(x for x in (f"{r.name}: {r.status}", r.reason, r.failure) if x),
            layer=layers[r.name],
        )
        for r in rows
    ]
    return layered(nodes, [Edge(s, t) for s, t in pairs])


def _seconds(duration: float | None) -> str:
    if duration is None:
        return ""
    return f"{duration * 1000:.0f} ms" if duration < 1 else f"{duration:.1f} s"


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/pipelines", pipelines, ["GET"]),
    ("/runs/{run_id}/pipeline", pipeline_dag, ["GET"]),
]
