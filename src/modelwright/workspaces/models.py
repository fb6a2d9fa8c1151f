"""Requests and responses of the workspace operations (also the shapes of platform.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from modelwright.core.models import Request
from modelwright.core.names import Name, unique_names
from modelwright.core.pages import PageParams
from modelwright.workspaces.policy import PromotionPolicy
from modelwright.workspaces.rules import placement_problem, url_problem

Classification = Literal["non-production", "production"]


class ListWorkspaces(PageParams, Request):
    pass


class DatastoreSpec(Request):
    name: Name
    url: str = Field(min_length=1, max_length=2048, description="An fsspec URL or a local path.")
    classification: Classification = "non-production"
    region: str = Field(default="", max_length=64)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        problem = url_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class EnvironmentSpec(Request):
    name: Name
    production: bool = False
    description: str = Field(default="", max_length=2000)
    datastores: list[DatastoreSpec] = Field(default_factory=list)
    promotion: PromotionPolicy | None = Field(
        default=None, description="The gates a model version must pass to enter."
    )

    @model_validator(mode="after")
    def _datastores(self) -> EnvironmentSpec:
        unique_names([d.name for d in self.datastores], "datastore")
        for d in self.datastores:
            problem = placement_problem(self.name, self.production, d.name, d.classification)
            if problem:
                raise ValueError(problem)
        return self


def default_environments() -> list[EnvironmentSpec]:
    return [
        EnvironmentSpec(name="dev"),
        EnvironmentSpec(name="staging"),
        EnvironmentSpec(name="prod", production=True),
    ]


class CreateWorkspace(Request):
    name: Name
    description: str = Field(default="", max_length=2000)
    environments: list[EnvironmentSpec] = Field(
        default_factory=default_environments,
        min_length=1,
        description="The promotion path in order; default dev → staging → prod.",
    )

    @model_validator(mode="after")
    def _environments(self) -> CreateWorkspace:
        unique_names([e.name for e in self.environments], "environment")
        return self


class WorkspaceRef(Request):
    workspace: Name


class CreateEnvironment(EnvironmentSpec):
    workspace: Name


class CreateDatastore(DatastoreSpec):
    workspace: Name
    environment: Name


class DatastoreRef(Request):
    workspace: Name
    environment: Name
    datastore: Name


class DatastoreInfo(BaseModel):
    name: str
    url: str
    classification: Classification
    region: str


class EnvironmentInfo(BaseModel):
    name: str
    position: int
    production: bool
    description: str
    datastores: list[DatastoreInfo]
    promotion: PromotionPolicy | None = None


class WorkspaceInfo(BaseModel):
    name: str
    description: str
    created_at: datetime
    environments: list[EnvironmentInfo]
