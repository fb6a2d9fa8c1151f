"""Requests and responses of the endpoint operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from modelwright.core.ints import VersionNumber
from modelwright.core.models import Request
from modelwright.core.names import Name
from modelwright.core.pages import MAX_TOKEN, PageParams

__all__ = [
    "AuthorizeInvoke",
    "CreateEndpoint",
    "Deploy",
    "DeploymentInfo",
    "DeploymentRef",
    "EndpointChange",
    "EndpointHistoryRequest",
    "EndpointInfo",
    "EndpointRef",
    "InvokeDecision",
    "ListEndpoints",
    "ServedShare",
    "ServingConfig",
    "SetShadow",
    "SetTraffic",
]


class ServingConfig(BaseModel):
    """How one deployment is served. Batching is off unless ``max_batch_size`` > 1."""

    workers: int = Field(default=1, ge=1, le=64, description="Worker processes.")
    max_batch_size: int = Field(
        default=1, ge=1, le=10_000, description="Requests merged into one predict call."
    )
    max_latency_ms: float = Field(
        default=5.0, ge=0, le=10_000, description="Longest wait for a batch to fill."
    )
    max_queue: int = Field(
        default=64, ge=1, le=100_000, description="Requests waiting or running; more get 503."
    )
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, le=1024**3)
    capture_rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of requests captured to the datastore."
    )
    method: Literal["predict", "predict_proba", "decision_function"] = Field(
        default="predict",
        description="The prediction method answered; a request may ask for another one.",
    )


class CreateEndpoint(Request):
    workspace: Name
    environment: Name
    name: Name
    description: str = Field(default="", max_length=2000)


class ListEndpoints(PageParams, Request):
    workspace: Name
    environment: Name | None = None


class EndpointRef(Request):
    workspace: Name
    environment: Name
    endpoint: Name


class EndpointHistoryRequest(Request):
    workspace: Name
    environment: Name
    endpoint: Name
    at: datetime | None = Field(
        default=None,
        description="Only the state in force at this time: what served which share then.",
    )
    limit: int = Field(default=200, ge=1, le=10_000, description="The newest changes first.")
    page_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN,
        description="The `next_page_token` of the previous page; omit it for the first page.",
    )


class Deploy(Request):
    workspace: Name
    environment: Name
    endpoint: Name
    deployment: Name
    model: Name
    version: VersionNumber
    weight: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Default: 100 for the first deployment, 0 for later ones (then set traffic).",
    )
    config: ServingConfig = Field(default_factory=ServingConfig)


class DeploymentRef(Request):
    workspace: Name
    environment: Name
    endpoint: Name
    deployment: Name


class SetTraffic(Request):
    workspace: Name
    environment: Name
    endpoint: Name
    weights: dict[Name, Annotated[int, Field(ge=0, le=100)]] = Field(
        description="deployment → percent; deployments left out get 0; the sum must be 100."
    )


class SetShadow(Request):
    workspace: Name
    environment: Name
    endpoint: Name
    deployment: Name | None = Field(default=None, description="None removes the shadow.")
    percent: int = Field(default=100, ge=0, le=100)


class AuthorizeInvoke(Request):
    workspace: Name
    environment: Name
    token: str = Field(max_length=200)


class DeploymentInfo(BaseModel):
    name: str
    model: str
    version: int
    uri: str
    digest: str
    weight: int
    shadow: bool
    config: ServingConfig
    created_at: datetime
    created_by: str


class EndpointInfo(BaseModel):
    workspace: str
    environment: str
    name: str
    description: str
    deployments: list[DeploymentInfo]
    shadow: str | None
    shadow_percent: int
    generation: int
    created_at: datetime
    created_by: str
    updated_at: datetime


class InvokeDecision(BaseModel):
    principal: str
    allowed: bool
    status: int = Field(description="200 allowed, 401 bad token, 403 no endpoint.invoke grant.")
    reason: str


class ServedShare(BaseModel):
    model: str
    version: int
    weight: int


class EndpointChange(BaseModel):
    """One change of an endpoint's routing and the state it left (``exists`` false once the
    endpoint was deleted)."""

    at: datetime
    by: str
    change: str
    exists: bool
    deployments: dict[str, ServedShare]
    shadow: str | None
    shadow_percent: int
