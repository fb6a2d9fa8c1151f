"""Operations of the retraining action of monitors: set, show, clear, run now."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.monitors import models as mm
from modelwright.monitors import retrain_models as rm

V1 = "/api/v1"
_RETRAIN = (
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/monitors/{{name}}/retraining"
)

SET_RETRAINING = Operation(
    "set_retraining",
    "PUT",
    _RETRAIN,
    rm.SetRetraining,
    rm.RetrainingAction,
    "modelwright.monitors.retrain:set_retraining",
    "Set a monitor's retraining: a pipeline run whose model is proposed for promotion when "
    "an alert fires, at most once per cooldown",
    "monitors",
)
GET_RETRAINING = Operation(
    "get_retraining",
    "GET",
    _RETRAIN,
    mm.MonitorRef,
    rm.RetrainingDetail,
    "modelwright.monitors.retrain:get_retraining",
    "A monitor's retraining action and its latest retrainings (started or skipped)",
    "monitors",
)
CLEAR_RETRAINING = Operation(
    "clear_retraining",
    "DELETE",
    _RETRAIN,
    mm.MonitorRef,
    rm.RetrainingAction,
    "modelwright.monitors.retrain:clear_retraining",
    "Remove a monitor's retraining action (its history stays)",
    "monitors",
)
RUN_RETRAINING = Operation(
    "run_retraining",
    "POST",
    f"{_RETRAIN}/runs",
    rm.RetrainRun,
    rm.RetrainingInfo,
    "modelwright.monitors.retrain:run_retraining",
    "Start a monitor's retraining now (skipped within the cooldown unless forced)",
    "monitors",
    status=201,
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
