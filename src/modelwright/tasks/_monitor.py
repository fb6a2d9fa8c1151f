"""A monitor's evaluation as a workflow: plan the window, compute the drift, quality,
prediction and performance values in a child process (it loads the baseline and reads the capture, which may be large),
then store them with the service values. A failure of the child is stored as an ``error``
value of those signals, so a broken evaluation shows in the history instead of a gap.

The alert rules advance in the record step's transaction; their notifications are sent by
the step after it, outside any transaction (a slow webhook holds no lock), each transition's
outcome recorded in a transaction of its own once its sinks have answered."""

from __future__ import annotations

from typing import Any

from modelwright.core.actions import Action
from modelwright.monitors import alerts
from modelwright.monitors.steps import evaluation_plan, record_evaluation
from modelwright.tasks._spawn import TaskFailed, in_unit, run_in_child
from modelwright.workflows import Flow, workflow

__all__ = ["monitor"]


def _compute(flow: Flow, plan: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"rows": run_in_child(flow, "monitor.evaluate", plan), "error": None}
    except TaskFailed as exc:
        return {"rows": None, "error": str(exc)}


def _notify(flow: Flow, monitor_id: int) -> int:
    """Deliver the transitions not delivered yet; returns how many. A replay of this step
    skips those whose outcome is recorded."""
    ids: list[int] = in_unit(flow, alerts.pending_notifications, monitor_id)
    for event_id in ids:
        found = in_unit(flow, alerts.notification, event_id)
        if found is None:
            continue
        outcomes = alerts.deliver(*found)
        in_unit(flow, alerts.record_deliveries, event_id, outcomes)
    return len(ids)


@workflow("monitor.run", queue="monitors", action=Action.ENDPOINT_DEPLOY)
def monitor(flow: Flow, monitor_id: int) -> str:
    plan: dict[str, Any] = flow.step(in_unit, flow, evaluation_plan, monitor_id, name="plan")
    if plan.get("gone"):
        return "gone"
    data: dict[str, Any] = {"rows": None, "error": None}
    if not plan.get("error") and {"drift", "quality", "prediction", "performance"} & set(
        plan["signals"]
    ):
        data = flow.step(_compute, flow, plan, name="evaluate")
    worst = str(
        flow.step(
            in_unit,
            flow,
            record_evaluation,
            monitor_id,
            plan,
            data,
            flow.job_id,
            name="record",
        )
    )
    flow.step(_notify, flow, monitor_id, name="notify")
    return worst
