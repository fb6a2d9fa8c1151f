"""Requests and responses of the rollout operations."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelwright.core.ints import INT32_MAX, VersionNumber
from modelwright.core.models import Request
from modelwright.core.names import Name
from modelwright.core.pages import PageParams
from modelwright.endpoints.models import ServingConfig
from modelwright.workspaces.policy import parse_threshold

__all__ = [
    "SIGNALS",
    "ListRollouts",
    "RolloutInfo",
    "RolloutPlan",
    "RolloutRef",
    "RolloutStatus",
    "StartRollout",
    "Strategy",
]

# What an alarm may name: figures of the new deployment's own requests in the window.
SIGNALS = ("error_rate", "server_error_rate", "mean_ms", "p50_ms", "p90_ms", "p99_ms")
# routing_mismatch: the rollout ended, but a live router kept routing otherwise than recorded.
RolloutStatus = Literal[
    "running", "paused", "succeeded", "rolled_back", "aborted", "failed", "routing_mismatch"
]
ACTIVE = ("running", "paused")
Strategy = Literal["all-at-once", "canary", "linear"]
_DEFAULT_STEPS = {"all-at-once": [100], "canary": [10, 100], "linear": [25, 50, 75, 100]}


class RolloutPlan(BaseModel):
    """How a new deployment takes over an endpoint: steps, bake and alarms."""

    model_config = ConfigDict(extra="forbid")

    endpoint: Name
    deployment: Name | None = Field(
        default=None, description="The new deployment's name (default: <model>-v<version>)."
    )
    strategy: Strategy = "canary"
    steps: list[Annotated[int, Field(ge=1, le=100)]] | None = Field(
        default=None,
        max_length=20,
        description="Percent of traffic on the new deployment at each step, ending at 100.",
    )
    bake_seconds: float = Field(default=60.0, ge=0.0, le=7 * 86_400)
    alarms: list[str] = Field(
        default_factory=lambda: ["server_error_rate > 0.01"],
        max_length=16,
        description=f"'<signal> <op> <number>', signal one of {', '.join(SIGNALS)}.",
    )
    min_requests: int = Field(
        default=1, ge=1, le=INT32_MAX, description="Fewer in a window: no data (inconclusive)."
    )
    config: ServingConfig = Field(default_factory=ServingConfig)

    @field_validator("alarms")
    @classmethod
    def _alarms(cls, values: list[str]) -> list[str]:
        for text in values:
            signal = parse_threshold(text).metric
            if signal not in SIGNALS:
                raise ValueError(
                    f"'{text}': unknown signal '{signal}' (one of {', '.join(SIGNALS)})"
                )
        return values

    @model_validator(mode="after")
    def _steps(self) -> Self:
        steps = self.steps or _DEFAULT_STEPS[self.strategy]
        if self.strategy == "all-at-once" and steps != [100]:
            raise ValueError("steps: an all-at-once rollout has one step, 100")
        if any(b <= a for a, b in pairwise(steps)) or steps[-1] != 100:
            raise ValueError(f"steps: must increase and end at 100, got {steps}")
        self.steps = steps
        return self


class StartRollout(RolloutPlan, Request):
    workspace: Name
    environment: Name
    deployment: Name = Field(description="The new deployment's name.")
    model: Name
    version: VersionNumber
    reason: str = Field(default="", max_length=2000)


class RolloutRef(Request):
    rollout_id: Annotated[int, Field(ge=1, le=INT32_MAX)]


class ListRollouts(PageParams, Request):
    workspace: Name | None = None
    environment: Name | None = None
    endpoint: Name | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class RolloutInfo(BaseModel):
    id: int
    workspace: str
    environment: str
    endpoint: str
    deployment: str
    stable: str = Field(description="The deployment that took the traffic before.")
    model: str = Field(description="models:/<name>/<version>")
    strategy: str
    steps: list[int]
    bake_seconds: float
    alarms: list[str]
    min_requests: int
    status: RolloutStatus
    weight: int = Field(description="Percent of traffic on the new deployment now.")
    outcome: str
    started_by: str
    reason: str
    job_id: int | None
    history: list[dict[str, Any]] = Field(description="Each step: window, figures, verdict.")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
