"""A monitor's retraining as a workflow: plan, run the pipeline and register its model in a
child process (the project's code never runs in the worker), then request the promotion of
the new version as the action's author. A failure of the child ends the retraining as
``failed`` with the child's error, so it shows in the monitor's retraining history."""

from __future__ import annotations

from typing import Any

from modelwright.core.actions import Action
from modelwright.monitors.retrain_flow import KIND, finish_retraining, retrain_plan
from modelwright.tasks._spawn import TaskFailed, in_unit, run_in_child
from modelwright.workflows import Flow, workflow

__all__ = ["retrain"]


def _train(flow: Flow, plan: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(run_in_child(flow, KIND, plan))
    except TaskFailed as exc:
        return {"error": str(exc)}


@workflow(KIND, queue="pipelines", action=Action.ENDPOINT_DEPLOY)
def retrain(flow: Flow, retraining_id: int) -> str:
    plan: dict[str, Any] = flow.step(in_unit, flow, retrain_plan, retraining_id, name="plan")
    if plan.get("gone"):
        return "gone"
    outcome = flow.step(_train, flow, plan, name="train")
    return str(flow.step(in_unit, flow, finish_retraining, retraining_id, outcome, name="promote"))
