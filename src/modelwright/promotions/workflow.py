"""A promotion as a durable workflow: checks, then a durable wait for approvals, then the
change. Each step reads the promotion's row afresh, so a replay after a crash, a rejection
or an expired approval is seen where it matters; waiting holds no worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.promotions.service import approval_state, finish_promotion, run_checks
from modelwright.workflows import Flow, workflow

__all__ = ["promotion"]

T = TypeVar("T")


def _in_unit(flow: Flow, fn: Callable[[Context, int], T], promotion_id: int) -> T:
    with flow.unit() as ctx:
        return fn(ctx, promotion_id)


@workflow("promotion.run", queue="promotions", action=Action.PROMOTION_REQUEST)
def promotion(flow: Flow, promotion_id: int) -> str:
    after = flow.step(_in_unit, flow, run_checks, promotion_id, name="gates")
    if after == "stop":
        return "stopped"
    if after == "approval":
        while (
            state := flow.step(_in_unit, flow, approval_state, promotion_id, name="approvals")
        ) == "waiting":
            flow.wait_signal("decision")
        if state == "stop":
            return "stopped"
    return str(flow.step(_in_unit, flow, finish_promotion, promotion_id, name="promote"))
