"""A rollout as a durable workflow: deploy at 0 %, then for each step shift, wait until the
routers serve it, bake (a durable sleep) and judge; no data pauses it until someone resumes;
an alarm rolls it back. Whichever way it ends, the routers' live routing is then checked
against the record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.rollouts.steps import (
    analyse,
    begin_rollout,
    check_serving,
    finish_rollout,
    shift,
    verify_routing,
)
from modelwright.tasks._spawn import in_unit
from modelwright.workflows import Flow, workflow

__all__ = ["rollout", "verify"]

# Seconds between two looks at the routers' reports (they report on every change).
ROUTING_POLL = 0.5


def _until_settled(flow: Flow, check: Callable[[Context, int], str], rollout_id: int) -> str:
    while (state := flow.step(in_unit, flow, check, rollout_id, name=check.__name__)) == "waiting":
        flow.sleep(ROUTING_POLL)
    return str(state)


@workflow("rollout.run", queue="rollouts", action=Action.ENDPOINT_DEPLOY)
def rollout(flow: Flow, rollout_id: int) -> str:
    plan: dict[str, Any] = flow.step(in_unit, flow, begin_rollout, rollout_id, name="deploy")
    for weight in plan["steps"]:
        if flow.step(in_unit, flow, shift, rollout_id, weight, name=f"shift {weight}%") == "stop":
            return "stopped"
        served = _until_settled(flow, check_serving, rollout_id)
        if served == "stop":
            return "stopped"
        if served == "paused":
            flow.wait_signal("resume")
        while True:
            flow.sleep(plan["bake"])
            verdict = flow.step(in_unit, flow, analyse, rollout_id, name=f"judge {weight}%")
            if verdict == "pass":
                break
            if verdict != "paused":
                _until_settled(flow, verify_routing, rollout_id)
                return str(verdict)
            flow.wait_signal("resume")
    outcome = str(flow.step(in_unit, flow, finish_rollout, rollout_id, name="finish"))
    if outcome == "succeeded" and _until_settled(flow, verify_routing, rollout_id) == "mismatch":
        return "routing_mismatch"
    return outcome


@workflow("rollout.verify", queue="rollouts", action=Action.ENDPOINT_DEPLOY)
def verify(flow: Flow, rollout_id: int) -> str:
    """After an abort (an operator's action, outside the rollout's own workflow): wait for
    the routers to follow it, as a finish or a rollback does."""
    return _until_settled(flow, verify_routing, rollout_id)
