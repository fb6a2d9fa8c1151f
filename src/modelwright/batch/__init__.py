"""Batch inference: a model version over a dataset version, chunked, in parallel, resumable.

``run_batch(client, "models:/churn@champion", "customers@v3", "churn-scores")`` predicts in
local worker processes (or on Ray), writes each chunk's predictions to Parquet next to an id
column, and registers them as the next version of the output dataset, with lineage from the
input version through the job's run to the output version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelwright.batch._worker import ERROR_COLUMN, PREDICTION, ROW_COLUMN
from modelwright.errors import BatchFailed

if TYPE_CHECKING:
    from modelwright.batch._job import BatchProgress, BatchResult, run_batch
    from modelwright.batch._pools import ExecutorName

__all__ = [
    "ERROR_COLUMN",
    "PREDICTION",
    "ROW_COLUMN",
    "BatchFailed",
    "BatchProgress",
    "BatchResult",
    "ExecutorName",
    "run_batch",
]

_JOB = {"BatchProgress", "BatchResult", "run_batch"}


def __getattr__(name: str) -> Any:
    # Lazy: worker processes import this package for ``_worker`` alone, not the client stack.
    if name in _JOB:
        from modelwright.batch import _job

        return getattr(_job, name)
    if name == "ExecutorName":
        from modelwright.batch import _pools

        return _pools.ExecutorName
    raise AttributeError(f"module 'modelwright.batch' has no attribute {name!r}")
