"""Pipeline cache calls of the client (the runner in ``modelwright.runner`` uses them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from modelwright.api import pipelines as ops
from modelwright.api.operation import Operation
from modelwright.pipelines import models as pm

__all__ = ["PipelinesMixin"]

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")


class PipelinesMixin:
    """The pipeline cache methods of ``Client``."""

    def call(self, op: Operation[Req, Resp], **fields: Any) -> Resp:  # provided by Client
        raise NotImplementedError

    def lookup_cache(
        self,
        workspace: str,
        environment: str,
        pipeline: str,
        *,
        fingerprint: str,
        nodes: Sequence[pm.NodeLookup | dict[str, Any]],
    ) -> list[pm.NodeStatus]:
        """Every node's cache status in one call, nodes in pipeline order."""
        return self.call(
            ops.LOOKUP_CACHE,
            workspace=workspace,
            environment=environment,
            pipeline=pipeline,
            fingerprint=fingerprint,
            nodes=list(nodes),
        )

    def record_cache(
        self,
        workspace: str,
        environment: str,
        pipeline: str,
        entries: Sequence[pm.CacheEntry | dict[str, Any]],
    ) -> pm.RecordedCache:
        return self.call(
            ops.RECORD_CACHE,
            workspace=workspace,
            environment=environment,
            pipeline=pipeline,
            entries=list(entries),
        )

    def record_cached_runs(
        self, parent_id: str, nodes: Sequence[pm.CachedNode | dict[str, Any]]
    ) -> pm.CachedRuns:
        return self.call(ops.RECORD_CACHED_RUNS, parent_id=parent_id, nodes=list(nodes))
