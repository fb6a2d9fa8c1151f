"""A rollout as a durable workflow: deploy at 0 %, then for each step shift, bake (a durable
sleep) and judge; no data pauses it until someone resumes; an alarm has rolled it back."""

from __future__ import annotations

from typing import Any

from modelwright.core.actions import Action
from modelwright.rollouts.service import analyse, begin_rollout, finish_rollout, shift
from modelwright.tasks._spawn import in_unit
from modelwright.workflows import Flow, workflow

__all__ = ["rollout"]


@workflow("rollout.run", queue="rollouts", action=Action.ENDPOINT_DEPLOY)
def rollout(flow: Flow, rollout_id: int) -> str:
    plan: dict[str, Any] = flow.step(in_unit, flow, begin_rollout, rollout_id, name="deploy")
    for weight in plan["steps"]:
        if flow.step(in_unit, flow, shift, rollout_id, weight, name=f"shift {weight}%") == "stop":
            return "stopped"
        while True:
            flow.sleep(plan["bake"])
            verdict = flow.step(in_unit, flow, analyse, rollout_id, name=f"judge {weight}%")
            if verdict == "pass":
                break
            if verdict != "paused":
                return str(verdict)
            flow.wait_signal("resume")
    return str(flow.step(in_unit, flow, finish_rollout, rollout_id, name="finish"))
