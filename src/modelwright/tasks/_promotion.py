"""A promotion as a durable workflow: the checks that need nobody, the re-scoring gates and
then the smoke gate each in a child process (they load models), then a durable wait for
approvals, then, when a rollout is the last gate, a durable wait for the rollout, then the
change. Each step reads the promotion's row afresh, so a replay after a crash, a rejection
or an expired approval is seen where it matters; waiting holds no worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.promotions.steps import (
    approval_state,
    begin_release,
    evaluation_plan,
    finish_promotion,
    gates_unjudged,
    record_evaluation,
    record_smoke,
    release_state,
    run_checks,
    smoke_plan,
)
from modelwright.tasks._spawn import TaskFailed, in_unit, run_in_child
from modelwright.workflows import Flow, workflow

__all__ = ["promotion"]


# The steps whose gates a child process judges (it loads models): what the child is to do,
# and how its findings become the gates' results.
_IN_CHILD: dict[str, tuple[Callable[[Context, int], dict[str, Any]], Callable[..., str]]] = {
    "evaluate": (evaluation_plan, record_evaluation),
    "smoke": (smoke_plan, record_smoke),
}


def _in_child(flow: Flow, promotion_id: int, step: str) -> str:
    """Judge ``step``'s gates in a child process; a child that fails fails those gates."""
    plan_of, record = _IN_CHILD[step]
    plan: dict[str, Any] = in_unit(flow, plan_of, promotion_id)
    try:
        found = run_in_child(flow, f"promotion.{step}", plan)
    except TaskFailed as exc:
        return str(in_unit(flow, gates_unjudged, promotion_id, step, str(exc)))
    return str(in_unit(flow, record, promotion_id, found))


def _until(
    flow: Flow, state: Callable[[Context, int], str], promotion_id: int, *, wake: str, name: str
) -> str:
    """Check ``state`` as a step; while it says ``waiting``, wait durably for ``wake``."""
    while (now := flow.step(in_unit, flow, state, promotion_id, name=name)) == "waiting":
        flow.wait_signal(wake)
    return str(now)


@workflow("promotion.run", queue="promotions", action=Action.PROMOTION_REQUEST)
def promotion(flow: Flow, promotion_id: int) -> str:
    after = flow.step(in_unit, flow, run_checks, promotion_id, name="gates")
    if after == "evaluate":
        after = flow.step(_in_child, flow, promotion_id, "evaluate", name="evaluate")
    if after == "smoke":
        after = flow.step(_in_child, flow, promotion_id, "smoke", name="smoke")
    if after == "stop":
        return "stopped"
    if (
        after == "approval"
        and _until(flow, approval_state, promotion_id, wake="decision", name="approvals") == "stop"
    ):
        return "stopped"
    release = flow.step(in_unit, flow, begin_release, promotion_id, name="rollout")
    if release == "stop":
        return "stopped"
    if (
        release == "rolling_out"
        and _until(flow, release_state, promotion_id, wake="rollout", name="rollout state")
        == "stop"
    ):
        return "stopped"
    return str(flow.step(in_unit, flow, finish_promotion, promotion_id, name="promote"))
