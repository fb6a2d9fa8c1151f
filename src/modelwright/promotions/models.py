"""Requests and responses of the promotion operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from modelwright.core.ints import INT32_MAX, VersionNumber
from modelwright.core.models import Idempotent, Request
from modelwright.core.names import AliasName, Name
from modelwright.core.pages import PageParams
from modelwright.rollouts.models import RolloutPlan

__all__ = [
    "CardRequest",
    "Decide",
    "DecisionInfo",
    "GateResult",
    "ListPromotions",
    "ModelCard",
    "PromotionInfo",
    "PromotionRef",
    "PromotionStatus",
    "Reject",
    "RequestPromotion",
]

PromotionStatus = Literal[
    "checking", "awaiting_approval", "rolling_out", "promoted", "rejected", "failed", "cancelled"
]
FINISHED = ("promoted", "rejected", "failed", "cancelled")
PromotionId = Annotated[int, Field(ge=1, le=INT32_MAX)]


class RequestPromotion(Idempotent):
    workspace: Name
    model: Name
    version: VersionNumber
    to: Name = Field(description="The environment to enter.")
    source: Name | None = Field(
        default=None,
        description="Where the version comes from (default: the environment before 'to').",
    )
    alias: AliasName | None = Field(default=None, description="Moved to the version once promoted.")
    to_workspace: Name | None = Field(
        default=None,
        description="Enter 'to' of this workspace (one workspace per environment); its "
        "policy must accept promotions from the source (allow_from).",
    )
    rollout: RolloutPlan | None = Field(
        default=None,
        description="Last gate: roll the version out on this endpoint of the target; the "
        "promotion completes only if the rollout does.",
    )
    reason: str = Field(default="", max_length=2000)


class PromotionRef(Request):
    promotion_id: PromotionId


class ListPromotions(PageParams, Request):
    workspace: Name | None = None
    model: Name | None = None
    status: PromotionStatus | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class Decide(Request):
    promotion_id: PromotionId
    comment: str = Field(default="", max_length=2000)


class Reject(Request):
    promotion_id: PromotionId
    comment: str = Field(min_length=1, max_length=2000, description="Why: required.")


class GateResult(BaseModel):
    kind: str
    status: Literal["pending", "passed", "failed", "waiting"]
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    at: datetime | None = None


class DecisionInfo(BaseModel):
    principal: str
    decision: Literal["approve", "reject"]
    comment: str
    at: datetime


class PromotionInfo(BaseModel):
    id: int
    workspace: str
    model: str
    version: int
    uri: str = Field(description="models:/<name>/<version>")
    source: str
    target: str
    target_workspace: str
    promoted_version: int | None = Field(
        description="The version's number in the target workspace once promoted (another "
        "number when it was copied into another workspace)."
    )
    alias: str | None
    status: PromotionStatus
    reason: str
    outcome: str = Field(description="Why it ended as it did.")
    requested_by: str
    job_id: int | None
    rollout: RolloutPlan | None
    rollout_id: int | None
    gates: list[GateResult]
    decisions: list[DecisionInfo]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


# -- model cards ------------------------------------------------------------------------------
CARD_FIELDS = ("intended_use", "limitations", "owners")  # version tags card.<field>


class CardRequest(Request):
    workspace: Name
    name: Name
    version: VersionNumber


class ModelCard(BaseModel):
    """What a reviewer needs about one model version, from the records that hold it."""

    model: str = Field(description="models:/<name>/<version>")
    workspace: str
    description: str
    intended_use: str = Field(description="Tag card.intended_use of the version.")
    limitations: str = Field(description="Tag card.limitations of the version.")
    owners: list[str] = Field(description="Tag card.owners (comma-separated) of the version.")
    flavor: str
    signature: dict[str, Any] | None
    requirements: list[str]
    registered_in: str
    registered_by: str
    registered_at: datetime
    available_in: list[str]
    aliases: dict[str, list[str]]
    run_id: str | None
    params: dict[str, str]
    metrics: dict[str, float | None]
    training_datasets: list[dict[str, Any]] = Field(
        description="Each input dataset version of the run, with its schema and row count."
    )
    promotions: list[PromotionInfo]
    alias_history: list[dict[str, Any]]
