"""Requests and responses of the promotion operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from modelwright.core.ints import INT32_MAX, VersionNumber
from modelwright.core.models import Idempotent, Request
from modelwright.core.names import Name

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
    "checking", "awaiting_approval", "promoted", "rejected", "failed", "cancelled"
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
    alias: Name | None = Field(default=None, description="Moved to the version once promoted.")
    reason: str = Field(default="", max_length=2000)


class PromotionRef(Request):
    promotion_id: PromotionId


class ListPromotions(Request):
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
    alias: str | None
    status: PromotionStatus
    reason: str
    outcome: str = Field(description="Why it ended as it did.")
    requested_by: str
    job_id: int | None
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
