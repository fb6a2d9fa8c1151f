"""Durable workflows: functions of recorded steps, run by workers over the platform database.

See ``docs/workflows.md``. The engine is modelwright's own (small, over the platform's
tables); everything outside this package speaks only to the names exported here.
"""

from modelwright.workflows._engine import (
    cancel,
    create_schedule,
    create_trigger,
    retry,
    signal,
    start,
    start_for,
)
from modelwright.workflows._flow import CancelRequested, Flow, StepFailed
from modelwright.workflows._registry import (
    declare_queue,
    get_workflow,
    load_workflows,
    workflow,
    workflow_kinds,
)
from modelwright.workflows._worker import Worker

__all__ = [
    "CancelRequested",
    "Flow",
    "StepFailed",
    "Worker",
    "cancel",
    "create_schedule",
    "create_trigger",
    "declare_queue",
    "get_workflow",
    "load_workflows",
    "retry",
    "signal",
    "start",
    "start_for",
    "workflow",
    "workflow_kinds",
]
