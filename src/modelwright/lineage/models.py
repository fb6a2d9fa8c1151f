"""Requests and responses of the lineage query."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from modelwright.core.models import Request
from modelwright.core.names import Name

EntityKind = Literal["run", "dataset_version", "artifact", "model_version"]


class LineageRequest(Request):
    workspace: Name
    entity: str = Field(
        min_length=3,
        max_length=300,
        description="run:<id>, dataset:<environment>/<name>@<version>, artifact:<sha256>, "
        "model:<name>/<version>",
    )
    depth: int = Field(default=10, ge=1, le=50)


class LineageNode(BaseModel):
    kind: EntityKind
    id: str
    label: str
    relation: str = Field(default="", description="How this node relates to its parent.")
    hidden: bool = Field(
        default=False,
        description="In an environment the caller may not read: shown without id or label.",
    )
    children: list[LineageNode] = Field(default_factory=list)


class Lineage(BaseModel):
    entity: LineageNode
    ancestors: list[LineageNode] = Field(description="What the entity came from, as trees.")
    descendants: list[LineageNode] = Field(description="What came from the entity, as trees.")
