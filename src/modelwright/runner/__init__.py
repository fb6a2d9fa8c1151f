"""Running pipelines: sessions, executors (sequential, processes, Ray), progress."""

from modelwright.errors import NodeFailed
from modelwright.runner.executors import (
    Executor,
    ProcessExecutor,
    RayExecutor,
    SequentialExecutor,
    make_executor,
)
from modelwright.runner.session import (
    NodeReport,
    PipelineResult,
    PipelineSession,
    run_pipeline,
)

__all__ = [
    "Executor",
    "NodeFailed",
    "NodeReport",
    "PipelineResult",
    "PipelineSession",
    "ProcessExecutor",
    "RayExecutor",
    "SequentialExecutor",
    "make_executor",
    "run_pipeline",
]
