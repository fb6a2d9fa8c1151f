"""Actions and the built-in roles that bundle them.

A grant gives a principal a role in one workspace (or ``*``) and one environment (or ``*``);
the role's actions are then allowed there. Later capabilities check these same actions.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ALL", "BUILTIN_ROLES", "Action"]

ALL = "*"


class Action(StrEnum):
    DATA_READ = "data.read"
    DATA_WRITE = "data.write"
    PIPELINE_RUN = "pipeline.run"
    MODEL_REGISTER = "model.register"
    PROMOTION_REQUEST = "promotion.request"
    PROMOTION_APPROVE = "promotion.approve"
    ENDPOINT_DEPLOY = "endpoint.deploy"
    ENDPOINT_INVOKE = "endpoint.invoke"
    AUDIT_READ = "audit.read"
    ACCESS_MANAGE = "access.manage"


_SCIENTIST = (
    Action.DATA_READ,
    Action.DATA_WRITE,
    Action.PIPELINE_RUN,
    Action.MODEL_REGISTER,
    Action.PROMOTION_REQUEST,
    Action.ENDPOINT_INVOKE,
)

# name -> (description, actions). Approvers approve but cannot request or deploy, so that a
# promotion always takes two people (four eyes).
BUILTIN_ROLES: dict[str, tuple[str, tuple[Action, ...]]] = {
    "viewer": ("Reads data and metadata.", (Action.DATA_READ,)),
    "data-scientist": (
        "Develops models: data, pipelines, registration, promotion requests.",
        _SCIENTIST,
    ),
    "ml-engineer": (
        "Everything a data scientist does, plus deploying endpoints.",
        (*_SCIENTIST, Action.ENDPOINT_DEPLOY),
    ),
    "approver": (
        "Reviews: approves promotions and reads the audit trail.",
        (Action.DATA_READ, Action.PROMOTION_APPROVE, Action.AUDIT_READ),
    ),
    "admin": ("Every action, including managing access.", tuple(Action)),
}
