"""Pipelines: nodes ordered by the names of their inputs and outputs.

A pipeline is immutable. ``+`` and the filters return new pipelines, so they compose:
``(ingest + train).only_tags("fast").to_outputs("model")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from graphlib import CycleError, TopologicalSorter
from typing import Any

from modelwright.errors import InvalidInput
from modelwright.pipelines.node import Node, as_node

__all__ = ["Pipeline", "pipeline"]


class Pipeline:
    """Nodes in an order where every node comes after the nodes producing its inputs."""

    def __init__(self, nodes: Iterable[Node | Callable[..., Any] | Pipeline]) -> None:
        flat: list[Node] = []
        for item in nodes:
            flat.extend(item.nodes if isinstance(item, Pipeline) else [as_node(item)])
        self._by_name = _unique_names(flat)
        self.producers: dict[str, str] = _unique_outputs(flat)
        self.dependencies: dict[str, frozenset[str]] = {
            n.name: frozenset(self.producers[i] for i in n.dataset_inputs if i in self.producers)
            for n in flat
        }
        self.nodes: tuple[Node, ...] = tuple(self._by_name[name] for name in self._order())

    def _order(self) -> list[str]:
        sorter: TopologicalSorter[str] = TopologicalSorter()
        for name in self._by_name:  # insertion order keeps the order stable between runs
            sorter.add(name, *sorted(self.dependencies[name]))
        try:
            return list(sorter.static_order())
        except CycleError as exc:
            cycle = list(exc.args[1])
            raise InvalidInput(
                f"pipeline: nodes form a cycle: {' -> '.join(cycle)}",
                details={"field": "nodes", "cycle": cycle},
            ) from None

    # -- reading ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"Pipeline({[n.name for n in self.nodes]})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and self.nodes == other.nodes

    def __hash__(self) -> int:
        return hash(self.nodes)

    def node(self, name: str) -> Node:
        try:
            return self._by_name[name]
        except KeyError:
            raise InvalidInput(
                f"pipeline has no node '{name}' (it has: {', '.join(self._by_name)})",
                details={"node": name},
            ) from None

    def inputs(self) -> list[str]:
        """Datasets the pipeline consumes but does not produce (catalog entries), in order."""
        names = (i for n in self.nodes for i in n.dataset_inputs if i not in self.producers)
        return list(dict.fromkeys(names))

    def outputs(self) -> list[str]:
        """Datasets produced and consumed by no node of the pipeline."""
        consumed = {i for n in self.nodes for i in n.inputs}
        return [o for n in self.nodes for o in n.outputs if o not in consumed]

    def params(self) -> list[str]:
        return list(dict.fromkeys(p for n in self.nodes for p in n.params))

    def dependants(self, name: str) -> set[str]:
        """Every node downstream of ``name``."""
        found: set[str] = set()
        frontier = [name]
        while frontier:
            current = frontier.pop()
            for n, deps in self.dependencies.items():
                if current in deps and n not in found:
                    found.add(n)
                    frontier.append(n)
        return found

    # -- composing ----------------------------------------------------------------------------
    def __add__(self, other: Pipeline) -> Pipeline:
        if not isinstance(other, Pipeline):
            return NotImplemented
        return Pipeline([*self.nodes, *other.nodes])

    def only_tags(self, *tags: str) -> Pipeline:
        """Nodes carrying any of ``tags``."""
        wanted = set(tags)
        return Pipeline(n for n in self.nodes if n.tags & wanted)

    def only_nodes(self, *names: str) -> Pipeline:
        for name in names:
            self.node(name)
        return Pipeline(n for n in self.nodes if n.name in names)

    def from_inputs(self, *names: str) -> Pipeline:
        """Nodes that depend, directly or not, on any of the datasets ``names``."""
        self._known(names)
        start = {n.name for n in self.nodes if set(n.inputs) & set(names)}
        keep = set(start)
        for s in start:
            keep |= self.dependants(s)
        return Pipeline(n for n in self.nodes if n.name in keep)

    def to_outputs(self, *names: str) -> Pipeline:
        """The nodes needed to produce the datasets ``names``."""
        self._known(names)
        keep: set[str] = set()
        frontier = [self.producers[o] for o in names if o in self.producers]
        while frontier:
            current = frontier.pop()
            if current not in keep:
                keep.add(current)
                frontier.extend(self.dependencies[current])
        return Pipeline(n for n in self.nodes if n.name in keep)

    def _known(self, names: Iterable[str]) -> None:
        known = {d for n in self.nodes for d in (*n.inputs, *n.outputs)}
        for name in names:
            if name not in known:
                raise InvalidInput(
                    f"pipeline: no node reads or writes dataset '{name}'",
                    details={"dataset": name},
                )


def pipeline(nodes: Iterable[Node | Callable[..., Any] | Pipeline]) -> Pipeline:
    """A pipeline of nodes (or decorated functions, or other pipelines)."""
    return Pipeline(nodes)


def _unique_names(nodes: list[Node]) -> dict[str, Node]:
    by_name: dict[str, Node] = {}
    for n in nodes:
        if n.name in by_name and by_name[n.name] != n:
            raise InvalidInput(
                f"pipeline: two different nodes are named '{n.name}'; give one a name=...",
                details={"field": "nodes", "node": n.name},
            )
        by_name[n.name] = n
    return by_name


def _unique_outputs(nodes: list[Node]) -> dict[str, str]:
    producers: dict[str, str] = {}
    for n in nodes:
        for o in n.outputs:
            if o in producers and producers[o] != n.name:
                raise InvalidInput(
                    f"pipeline: output '{o}' is produced by both '{producers[o]}' and "
                    f"'{n.name}'; each dataset must have one producer",
                    details={"field": "outputs", "output": o},
                )
            producers[o] = n.name
    return producers
