"""The work any caller may submit for the platform's workers: pipeline runs, batch jobs and
leaderboards (``jobs.models.JobSpec``).

Each runs in a child process of the worker, as the principal who submitted it: the user's
code (a project's nodes, a model's flavor) never shares the worker's interpreter, a crash of
it fails the job rather than the worker, and a cancellation stops it at once. Every worker
imports this module (``workflows.load_workflows``), so it imports nothing heavy.
"""

from __future__ import annotations

from typing import Any

from modelwright.core.actions import Action
from modelwright.tasks import (  # noqa: F401 - register their workflows
    _monitor,
    _promotion,
    _retrain,
    _rollout,
)
from modelwright.tasks._spawn import run_in_child
from modelwright.workflows import Flow, workflow

__all__ = ["run_batch_job", "run_leaderboard_job", "run_pipeline_job"]


@workflow("pipeline.run", queue="pipelines", action=Action.PIPELINE_RUN)
def run_pipeline_job(flow: Flow, **inputs: Any) -> Any:
    return flow.step(run_in_child, flow, "pipeline.run", inputs, name="run pipeline")


@workflow("batch.run", queue="batch", action=Action.PIPELINE_RUN)
def run_batch_job(flow: Flow, **inputs: Any) -> Any:
    return flow.step(run_in_child, flow, "batch.run", inputs, name="predict")


@workflow("leaderboard.run", queue="pipelines", action=Action.PIPELINE_RUN)
def run_leaderboard_job(flow: Flow, **inputs: Any) -> Any:
    return flow.step(run_in_child, flow, "leaderboard.run", inputs, name="rank")
