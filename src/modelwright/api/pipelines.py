"""Operations of pipelines: the node cache and the record of pipeline runs."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.pipelines import models as pm

V1 = "/api/v1"

LOOKUP_CACHE = Operation(
    "lookup_cache",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/pipeline-cache/lookup",
    pm.LookupCache,
    list[pm.NodeStatus],
    "modelwright.pipelines.service:lookup_cache",
    "Look up the cache entries of a pipeline's nodes in one call (keys chain through hits)",
    "pipelines",
    reads_only=True,
)
RECORD_CACHE = Operation(
    "record_cache",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/pipeline-cache",
    pm.RecordCache,
    pm.RecordedCache,
    "modelwright.pipelines.service:record_cache",
    "Record successful node executions as cache entries",
    "pipelines",
    status=201,
)
RECORD_PIPELINE_RUN = Operation(
    "record_pipeline_run",
    "POST",
    f"{V1}/runs/{{run_id}}/pipeline-record",
    pm.RecordPipelineRun,
    pm.PipelineRunRecorded,
    "modelwright.pipelines.service:record_pipeline_run",
    "Record a pipeline run's progress in one call: finished nodes (child runs, cache entries, "
    "lineage), the run's params and artifacts, and its end",
    "pipelines",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
