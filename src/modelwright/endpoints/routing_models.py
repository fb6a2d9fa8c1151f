"""Requests and responses of live routing: what routers report, what the platform compares."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from modelwright.core.models import Request
from modelwright.core.names import Name

__all__ = [
    "EndpointRouting",
    "ReportRouting",
    "RouteReport",
    "RouterRouting",
    "RoutingQuery",
    "RoutingRecorded",
]

Weight = Annotated[int, Field(ge=0, le=100)]


class RouteReport(BaseModel):
    endpoint: Name
    generation: int = Field(ge=0, le=2**31 - 1)
    weights: dict[Name, Weight] = Field(max_length=1000)
    ready: list[Name] = Field(
        default_factory=list, max_length=1000, description="Deployments with a live worker."
    )


class ReportRouting(Request):
    """A router's whole routing table for its environment, sent whenever it changes and
    every ``interval`` seconds besides (a heartbeat: a silent router is not counted)."""

    workspace: Name
    environment: Name
    router: Name = Field(description="The router instance (new at every start).")
    interval: float = Field(gt=0, le=3600, description="Seconds between two reports.")
    endpoints: list[RouteReport] = Field(default_factory=list, max_length=10_000)


class RoutingRecorded(BaseModel):
    endpoints: int = Field(description="Endpoints in the router's reported table.")


class RoutingQuery(Request):
    workspace: Name
    environment: Name
    endpoint: Name


class RouterRouting(BaseModel):
    router: str
    reported_at: datetime
    generation: int
    weights: dict[str, int]
    ready: list[str]
    serving: dict[str, int] = Field(
        description="The weights of the deployments a request can reach (ready, weight > 0)."
    )
    matches: bool
    problem: str = ""


class EndpointRouting(BaseModel):
    """The endpoint's recorded routing beside what every live router reports."""

    endpoint: str
    generation: int
    weights: dict[str, int] = Field(description="As recorded (deployments taking traffic).")
    routers: list[RouterRouting] = Field(description="Routers that reported recently.")
    state: str = Field(
        description="matches (every live router routes as recorded), differs, or unobserved "
        "(no router reported recently)."
    )
