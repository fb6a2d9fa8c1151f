"""What a pipeline's run tells its caller: a report per node as it goes, and the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from modelwright.errors import InvalidInput
from modelwright.pipelines import models as pm
from modelwright.runner.catalog import read_object

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["NodeReport", "PipelineResult", "Progress", "Reports", "Status"]

Status = Literal["ran", "cached", "failed", "skipped"]
Progress = Callable[["NodeReport"], None]


@dataclass
class NodeReport:
    node: str
    status: Status | Literal["pending", "running"]
    reason: str
    run_id: str | None = None
    cache_key: str | None = None
    duration: float = 0.0
    error: str = ""


class Reports:
    """Every node's report while the run goes, each change passed on to ``progress``."""

    def __init__(self, nodes: list[str], progress: Progress | None = None) -> None:
        self.nodes = {n: NodeReport(n, "pending", "waiting for upstream nodes") for n in nodes}
        self.progress = progress

    def update(self, node: str, status: Any, reason: str, **fields: Any) -> None:
        report = self.nodes[node]
        report.status, report.reason = status, reason
        for k, v in fields.items():
            setattr(report, k, v)
        if self.progress is not None:
            self.progress(report)


@dataclass
class PipelineResult:
    run_id: str
    pipeline: str
    nodes: dict[str, NodeReport]
    failed: str | None
    config: dict[str, Any]
    _values: dict[str, Any] = field(default_factory=dict, repr=False)
    _objects: dict[str, pm.OutputObject] = field(default_factory=dict, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.failed is None

    def load(self, name: str) -> Any:
        """A dataset the run produced (restored from the artifact store for cached nodes)."""
        if name in self._values:
            return self._values[name]
        obj = self._objects.get(name)
        if obj is None or self._client is None:
            raise InvalidInput(f"the run produced no dataset '{name}'", details={"name": name})
        value = self._values[name] = read_object(self._client, obj)
        return value

    def explain(self) -> list[str]:
        return [f"{r.node}: {r.status} — {r.reason}" for r in self.nodes.values()]
