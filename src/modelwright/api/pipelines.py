"""Operations of pipelines: the node cache."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.pipelines import models as pm
from modelwright.pipelines import service as svc

V1 = "/api/v1"

LOOKUP_CACHE = Operation(
    "lookup_cache",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/pipeline-cache/lookup",
    pm.LookupCache,
    list[pm.NodeStatus],
    svc.lookup_cache,
    "Look up the cache entries of a pipeline's nodes in one call (keys chain through hits)",
    "pipelines",
)
RECORD_CACHE = Operation(
    "record_cache",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/pipeline-cache",
    pm.RecordCache,
    pm.RecordedCache,
    svc.record_cache,
    "Record successful node executions as cache entries",
    "pipelines",
    status=201,
)
RECORD_CACHED_RUNS = Operation(
    "record_cached_runs",
    "POST",
    f"{V1}/runs/{{parent_id}}/cached-nodes",
    pm.RecordCachedRuns,
    pm.CachedRuns,
    svc.record_cached_runs,
    "Record child runs for nodes restored from the cache, in one call",
    "pipelines",
    status=201,
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
