"""Operations of rollouts: start, list, status, pause, resume, abort."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.rollouts import models as rm

V1 = "/api/v1"
_ONE = f"{V1}/rollouts/{{rollout_id}}"

START_ROLLOUT = Operation(
    "start_rollout",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/endpoints/{{endpoint}}/rollouts",
    rm.StartRollout,
    rm.RolloutInfo,
    "modelwright.rollouts.service:start_rollout",
    "Roll a new deployment out in steps, judged by alarms, rolled back when one fires",
    "rollouts",
)
LIST_ROLLOUTS = Operation(
    "list_rollouts",
    "GET",
    f"{V1}/rollouts",
    rm.ListRollouts,
    Page[rm.RolloutInfo],
    "modelwright.rollouts.service:list_rollouts",
    "List rollouts of endpoints the caller may see (newest first)",
    "rollouts",
)
GET_ROLLOUT = Operation(
    "get_rollout",
    "GET",
    _ONE,
    rm.RolloutRef,
    rm.RolloutInfo,
    "modelwright.rollouts.service:get_rollout",
    "A rollout with each step's window, figures and verdict",
    "rollouts",
)
PAUSE_ROLLOUT = Operation(
    "pause_rollout",
    "POST",
    f"{_ONE}/pause",
    rm.RolloutRef,
    rm.RolloutInfo,
    "modelwright.rollouts.service:pause_rollout",
    "Hold a rollout's traffic where it is",
    "rollouts",
)
RESUME_ROLLOUT = Operation(
    "resume_rollout",
    "POST",
    f"{_ONE}/resume",
    rm.RolloutRef,
    rm.RolloutInfo,
    "modelwright.rollouts.service:resume_rollout",
    "Continue a paused rollout (its current step is judged afresh)",
    "rollouts",
)
ABORT_ROLLOUT = Operation(
    "abort_rollout",
    "POST",
    f"{_ONE}/abort",
    rm.RolloutRef,
    rm.RolloutInfo,
    "modelwright.rollouts.service:abort_rollout",
    "Send all traffic back to the stable deployment and retire the new one",
    "rollouts",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
