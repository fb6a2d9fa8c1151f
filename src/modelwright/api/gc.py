"""The operation of garbage collection."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.gc import models as gc

V1 = "/api/v1"

COLLECT_GARBAGE = Operation(
    "collect_garbage",
    "POST",
    f"{V1}/gc",
    gc.CollectGarbage,
    gc.GarbageReport,
    "modelwright.gc.service:collect_garbage",
    "Delete the objects of the artifact store and the datastores that no live record names "
    "(older than the grace period); with dry_run, only report them",
    "gc",
)

OPERATIONS: tuple[Operation, ...] = (COLLECT_GARBAGE,)  # type: ignore[type-arg]
