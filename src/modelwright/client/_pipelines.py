"""Pipeline calls of the client (the runner in ``modelwright.runner`` uses them)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from modelwright.api import pipelines as ops
from modelwright.client._base import ClientBase
from modelwright.pipelines import models as pm
from modelwright.tracking.models import ArtifactFile

__all__ = ["PipelinesMixin"]


class PipelinesMixin(ClientBase):
    """The pipeline methods of ``Client``: the node cache and the record of pipeline runs."""

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

    def record_pipeline_run(
        self,
        run_id: str,
        pipeline: str,
        nodes: Sequence[pm.NodeRun | dict[str, Any]] = (),
        *,
        params: Mapping[str, str] | None = None,
        artifacts: Sequence[ArtifactFile | dict[str, Any]] = (),
        end: pm.PipelineRunEnd | dict[str, Any] | None = None,
        objects: Mapping[str, bytes] | None = None,
        snapshot: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> pm.PipelineRunRecorded:
        """Record what the pipeline's run ``run_id`` did since the previous call: finished
        nodes as its child runs, its own params and artifacts, and with ``end`` its end (the
        runner sends one call per batch of nodes, not one per node). ``objects`` (digest →
        bytes, each at most 64 KiB) are stored before anything is recorded; ``snapshot`` is
        the run's environment when its start had none. Sending the same call again with the
        same ``idempotency_key`` (by default a new one per call) records it once."""
        return self.call(
            ops.RECORD_PIPELINE_RUN,
            run_id=run_id,
            pipeline=pipeline,
            nodes=list(nodes),
            params=dict(params or {}),
            artifacts=list(artifacts),
            end=end,
            # Base64 in the request, raw bytes again when validated (the HTTP body is JSON).
            objects={d: base64.b64encode(b).decode() for d, b in (objects or {}).items()},
            snapshot=None if snapshot is None else dict(snapshot),
            idempotency_key=idempotency_key,
        )
