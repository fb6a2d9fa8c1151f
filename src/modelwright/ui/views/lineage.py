"""Lineage: the graph around any node (dataset → run → model version → endpoint → batch
output), and what a run read and what came of it, as a fragment its page loads after the rest."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from modelwright.api import endpoints as ep_ops
from modelwright.api import tracking as tr_ops
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.lineage.models import Lineage, LineageNode
from modelwright.ui.links import dataset_link, lineage_link, model_link, node_link
from modelwright.ui.views._base import Endpoint, Me, signed_in
from modelwright.ui.views._graph import Edge, Graph, Node, layered

__all__ = ["ROUTES"]

# The run's own inputs and outputs; the impact follows its outputs further down.
_DEPTH = 2
# How far the graph page reaches each way by default: from data, its readers, their models, the
# runs using those (batch inference) and what they wrote.
_GRAPH_DEPTH = 4
_MAX_DEPTH = 10
_KIND_NAMES = {"dataset_version": "dataset", "model_version": "model version"}


@signed_in
async def run_lineage(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    run_id = me.request.path_params["run_id"]
    try:
        found = await me.call(
            tr_ops.LINEAGE, workspace=workspace, entity=f"run:{run_id}", depth=_DEPTH, impact=True
        )
    except ModelwrightError as exc:
        # A fragment: the page around it stays; the section says what went wrong.
        return me.render(
            "run_lineage.html", exc.status, workspace=workspace, error=exc, lineage=None
        )
    return me.render(
        "run_lineage.html",
        workspace=workspace,
        error=None,
        lineage=found,
        model_link=model_link,
        dataset_link=dataset_link,
        graph_link=lineage_link(workspace, f"run:{run_id}"),
    )


@signed_in
async def lineage_page(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    node = me.request.query_params.get("node", "").strip()
    if not node:
        raise InvalidInput(
            "node: name a node, as run:<id>, dataset:<env>/<name>@v<n> or models:/…",
            details={"field": "node"},
        )
    raw_depth = me.request.query_params.get("depth", str(_GRAPH_DEPTH))
    if not raw_depth.isdigit() or not 1 <= int(raw_depth) <= _MAX_DEPTH:
        raise InvalidInput(
            f"depth: expected a whole number from 1 to {_MAX_DEPTH} (got {raw_depth!r})",
            details={"field": "depth"},
        )
    depth = int(raw_depth)
    if node.startswith("endpoint:"):
        graph, title = await _around_endpoint(me, workspace, node, depth)
    else:
        found = await me.call(
            tr_ops.LINEAGE, workspace=workspace, entity=node, depth=depth, impact=True
        )
        graph, title = _graph(workspace, found), found.entity.label
    return me.render(
        "lineage.html",
        workspace=workspace,
        node=node,
        title=title,
        graph=graph,
        depth=depth,
        max_depth=_MAX_DEPTH,
    )


class _Builder:
    """Nodes and edges gathered from lineage trees, each node once."""

    def __init__(self, workspace: str) -> None:
        self.workspace = workspace
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str], Edge] = {}
        self._hidden = 0

    def node(self, n: LineageNode, layer: int) -> str:
        if n.hidden:
            self._hidden += 1
            key = f"hidden:{self._hidden}"
            self.nodes[key] = Node(key, "not readable", n.kind, layer=layer, status="hidden")
            return key
        return self.add(n.ref, _short(n), _KIND_NAMES.get(n.kind, n.kind), layer, n.label)

    def add(self, key: str, label: str, kind: str, layer: int, detail: str = "") -> str:
        known = self.nodes.get(key)
        if known is None:
            self.nodes[key] = Node(
                key,
                label,
                kind,
                href=node_link(self.workspace, key),
                centre=lineage_link(self.workspace, key),
                detail=detail or label,
                layer=layer,
            )
        elif abs(layer) > abs(known.layer):  # the farthest of its places keeps edges rightwards
            known.layer = layer
        return key

    def edge(self, source: str, target: str, label: str) -> None:
        self.edges.setdefault((source, target), Edge(source, target, label))

    def tree(self, parent: str, children: list[LineageNode], layer: int, up: bool) -> None:
        step = -1 if up else 1
        for child in children:
            key = self.node(child, layer + step)
            self.edge(*((key, parent) if up else (parent, key)), child.relation)
            self.tree(key, child.children, layer + step, up)

    def graph(self, centre: str) -> Graph:
        self.nodes[centre].current = True
        return layered(list(self.nodes.values()), list(self.edges.values()))


def _graph(workspace: str, found: Lineage) -> Graph:
    b = _Builder(workspace)
    root = b.node(found.entity, 0)
    b.tree(root, found.ancestors, 0, up=True)
    b.tree(root, found.descendants, 0, up=False)
    for s in found.impact.endpoints if found.impact else []:
        model = b.nodes.get(s.model)
        if model is not None:
            key = b.add(
                f"endpoint:{s.environment}/{s.endpoint}", s.endpoint, "endpoint", model.layer + 1
            )
            b.nodes[key].detail = f"endpoint {s.environment}/{s.endpoint}"
            b.edge(s.model, key, f"deployment {s.deployment} ({s.weight}%)")
    return b.graph(root)


async def _around_endpoint(me: Me, workspace: str, node: str, depth: int) -> tuple[Graph, str]:
    """An endpoint's graph: the model versions it serves and where they came from."""
    env, slash, name = node.removeprefix("endpoint:").partition("/")
    if not slash or not name:
        raise InvalidInput(
            f"node: an endpoint is named as endpoint:<environment>/<name> (got {node!r})",
            details={"field": "node"},
        )
    info: Any = await me.call(
        ep_ops.GET_ENDPOINT, workspace=workspace, environment=env, endpoint=name
    )
    b = _Builder(workspace)
    root = b.add(node, name, "endpoint", 0, f"endpoint {env}/{name}")
    for d in info.deployments:
        found = await me.call(tr_ops.LINEAGE, workspace=workspace, entity=d.uri, depth=depth)
        model = b.node(found.entity, -1)
        b.edge(model, root, f"deployment {d.name} ({d.weight}%)")
        b.tree(model, found.ancestors, -1, up=True)
    return b.graph(root), f"endpoint {env}/{name}"


def _short(n: LineageNode) -> str:
    """A node's name without its kind and the details in brackets (those go in its title)."""
    label = n.label
    for kind in ("dataset ", "model ", "artifact ", "run "):
        label = label.removeprefix(kind)
    return label.split(" (")[0] or n.kind


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/runs/{run_id}/lineage", run_lineage, ["GET"]),
    ("/w/{workspace}/lineage", lineage_page, ["GET"]),
]
