"""A directed graph laid out in layers, left to right, for an inline SVG (lineage, pipelines).

Layers are given by the caller (a distance from the node in view, a depth in a DAG); within a
layer, nodes are ordered by the barycentre of their neighbours in the layer before, then in the
layer after, a few sweeps each way, which keeps most edges from crossing without a library.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["Edge", "Graph", "Node", "layered", "longest_path_layers"]

NODE_W, NODE_H = 210, 58
GAP_X, GAP_Y = 70, 18
MARGIN = 8
_SWEEPS = 4


@dataclass
class Node:
    key: str
    label: str
    kind: str
    href: str = ""  # the node's own page
    centre: str = ""  # the graph around this node
    status: str = ""  # a class of its box (a pipeline node's ran, cached, failed …)
    note: str = ""  # a third line under the label
    detail: str = ""  # its tooltip: everything the box has no room for
    current: bool = False
    layer: int = 0
    x: int = 0
    y: int = 0


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    path: str = ""


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: int = 0
    height: int = 0
    node_w: int = NODE_W
    node_h: int = NODE_H
    by_key: dict[str, Node] = field(default_factory=dict)


def longest_path_layers(keys: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's layer in a DAG: one more than its deepest upstream node's."""
    upstream: dict[str, list[str]] = defaultdict(list)
    for s, t in edges:
        upstream[t].append(s)
    layer: dict[str, int] = {}

    def depth(k: str, seen: frozenset[str]) -> int:
        if k not in layer:
            ups = [u for u in upstream[k] if u not in seen]
            layer[k] = 1 + max((depth(u, seen | {k}) for u in ups), default=-1)
        return layer[k]

    for k in keys:
        depth(k, frozenset())
    return layer


def layered(nodes: list[Node], edges: list[Edge]) -> Graph:
    """Place ``nodes`` (each with its ``layer``) and draw ``edges`` between them."""
    by_key = {n.key: n for n in nodes}
    edges = [e for e in edges if e.source in by_key and e.target in by_key]
    first = min((n.layer for n in nodes), default=0)
    columns: dict[int, list[Node]] = defaultdict(list)
    for n in nodes:
        columns[n.layer - first].append(n)
    order = [columns[i] for i in range(max(columns, default=-1) + 1)]
    neighbours: dict[str, list[str]] = defaultdict(list)
    for e in edges:
        neighbours[e.source].append(e.target)
        neighbours[e.target].append(e.source)
    for sweep in range(_SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, len(order)) if forward else range(len(order) - 2, -1, -1)
        for i in indices:
            fixed = order[i - 1] if forward else order[i + 1]
            position = {n.key: p for p, n in enumerate(fixed)}
            order[i] = _by_barycentre(order[i], neighbours, position)
    tallest = max((len(c) for c in order), default=0)
    height = 2 * MARGIN + tallest * NODE_H + max(tallest - 1, 0) * GAP_Y
    for i, column in enumerate(order):
        # Each column centred vertically: a lone node sits level with the middle of its neighbours'.
        top = MARGIN + (height - 2 * MARGIN - (len(column) * (NODE_H + GAP_Y) - GAP_Y)) // 2
        for p, n in enumerate(column):
            n.x = MARGIN + i * (NODE_W + GAP_X)
            n.y = top + p * (NODE_H + GAP_Y)
    for e in edges:
        s, t = by_key[e.source], by_key[e.target]
        x1, y1 = s.x + NODE_W, s.y + NODE_H // 2
        x2, y2 = t.x, t.y + NODE_H // 2
        if x2 <= x1:  # same or an earlier column (a cycle): go round below
            x2 = t.x + NODE_W // 2
            y2 = t.y + NODE_H
        bend = max(abs(x2 - x1) // 2, 30)
        e.path = f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"
    width = 2 * MARGIN + len(order) * NODE_W + max(len(order) - 1, 0) * GAP_X
    return Graph(nodes, edges, width, height, by_key=by_key)


def _by_barycentre(
    column: list[Node], neighbours: dict[str, list[str]], position: dict[str, int]
) -> list[Node]:
    def centre(item: tuple[int, Node]) -> float:
        at, n = item
        linked = [position[k] for k in neighbours[n.key] if k in position]
        return sum(linked) / len(linked) if linked else float(at)

    return [n for _, n in sorted(enumerate(column), key=centre)]
