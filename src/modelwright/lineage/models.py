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
        "model:<name>/<version>, or a models:/ URI (models:/churn/3, models:/churn@champion)",
    )
    depth: int = Field(default=10, ge=1, le=50)
    impact: bool = Field(
        default=False,
        description="Also list the model versions, endpoints and datasets downstream.",
    )


class LineageNode(BaseModel):
    kind: EntityKind
    id: str
    label: str
    relation: str = Field(default="", description="How this node relates to its parent.")
    ref: str = Field(
        default="",
        description="The node as the entity parameter names it (run:<id>, "
        "dataset:<environment>/<name>@v<version>, artifact:<sha256>, models:/<name>/<version>): "
        "its own lineage is asked for with it. Empty when hidden.",
    )
    hidden: bool = Field(
        default=False,
        description="In an environment the caller may not read: shown without id or label.",
    )
    children: list[LineageNode] = Field(default_factory=list)


class Lineage(BaseModel):
    entity: LineageNode
    ancestors: list[LineageNode] = Field(description="What the entity came from, as trees.")
    descendants: list[LineageNode] = Field(description="What came from the entity, as trees.")
    impact: Impact | None = Field(default=None, description="With impact=true.")


class ServedBy(BaseModel):
    environment: str
    endpoint: str
    deployment: str
    weight: int
    model: str = Field(description="models:/<name>/<version>")


class Impact(BaseModel):
    """What depends on the entity downstream: for a dataset version, which models were
    trained on it, where they serve, and which datasets were derived from it; for a model
    version, where it serves too."""

    model_versions: list[str] = Field(description="models:/<name>/<version>, readable ones.")
    endpoints: list[ServedBy] = Field(
        description="Deployments serving one of them (or the entity) now."
    )
    datasets: list[str] = Field(description="<environment>/<name>@v<version> derived from it.")
    hidden: int = Field(description="Downstream entities the caller may not read.")
