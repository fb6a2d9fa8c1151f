"""Requests and responses of the registry operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from modelwright.core.ints import VersionNumber
from modelwright.core.models import Compact, Request
from modelwright.core.names import AliasName, Name
from modelwright.core.pages import PageParams
from modelwright.registry.artifact import FileEntry
from modelwright.registry.signature import Signature
from modelwright.tracking.models import Key, RunId, TagValue

__all__ = [
    "AliasEventInfo",
    "AliasHistoryRequest",
    "AliasRef",
    "DeleteAlias",
    "LeaderboardEntry",
    "LeaderboardRequest",
    "ListModels",
    "ModelDetail",
    "ModelInfo",
    "ModelRef",
    "ModelVersionInfo",
    "RankVersions",
    "RegisterVersion",
    "SetAlias",
    "UpdateModel",
    "UpdateVersion",
    "UseVersion",
    "VersionRef",
    "VersionScore",
]

Digest = str


class RegisterVersion(Request):
    workspace: Name
    name: Name
    environment: Name
    manifest: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="sha256 of the uploaded manifest (its files uploaded first).",
    )
    run_id: RunId | None = None
    description: str = Field(default="", max_length=20_000)
    tags: dict[Key, TagValue] = Field(default_factory=dict)


class ListModels(PageParams, Request):
    workspace: Name


class ModelRef(Request):
    workspace: Name
    name: Name


class VersionRef(Request):
    workspace: Name
    name: Name
    version: VersionNumber


class UseVersion(Request):
    """A run uses a model version (batch inference, evaluation): recorded as its input."""

    workspace: Name
    name: Name
    version: VersionNumber
    run_id: str = Field(min_length=1, max_length=64)


class AliasRef(Request):
    workspace: Name
    name: Name
    alias: Name
    environment: Name


class SetAlias(Request):
    workspace: Name
    name: Name
    alias: AliasName
    environment: Name
    version: VersionNumber
    reason: str = Field(default="", max_length=2000)


class DeleteAlias(Request):
    workspace: Name
    name: Name
    alias: Name
    environment: Name
    reason: str = Field(default="", max_length=2000)


class ListVersions(PageParams, ModelRef):
    pass


class AliasHistoryRequest(PageParams, Request):
    workspace: Name
    name: Name
    environment: Name | None = None
    alias: Name | None = None
    at: datetime | None = Field(
        default=None,
        description="Only where each alias pointed at this time: its last move up to then.",
    )


class UpdateModel(Request):
    workspace: Name
    name: Name
    description: str | None = Field(default=None, max_length=20_000)
    tags: dict[Key, TagValue | None] = Field(
        default_factory=dict, description="Tags to set; a null value removes the tag."
    )


class UpdateVersion(UpdateModel):
    version: VersionNumber


class LeaderboardRequest(Request):
    workspace: Name
    name: Name
    metric: Key
    environment: Name | None = Field(
        default=None, description="Only versions available in this environment."
    )
    higher_is_better: bool | None = Field(
        default=None, description="Default: lower is better for loss/error-like metric names."
    )


class VersionScore(BaseModel):
    version: VersionNumber
    value: float | None = Field(description="The metric of this version; null: none computed.")


class RankVersions(Request):
    workspace: Name
    name: Name
    metric: Key
    environment: Name = Field(description="Rank the versions available in this environment.")
    scores: list[VersionScore] | None = Field(
        default=None,
        description="Scores the caller computed (on a holdout, where the models are); "
        "absent: rank by the metric the versions' runs logged.",
    )
    source: str = Field(
        default="",
        max_length=500,
        description="What the scores were computed on (a dataset version), for the entries "
        "and the alias history.",
    )
    higher_is_better: bool | None = Field(
        default=None, description="Default: lower is better for loss/error-like metric names."
    )
    set_challenger: bool = Field(
        default=False,
        description="Point the environment's challenger alias at the winner, in the same "
        "transaction (needs model.register there).",
    )


class ModelVersionInfo(Compact):
    shown = ("workspace", "name", "version", "flavor", "environment", "run_id")

    workspace: str
    name: str
    version: int
    uri: str
    digest: str
    flavor: str
    flavor_meta: dict[str, Any]
    signature: Signature | None
    requirements: list[str]
    files: list[FileEntry]
    describe: dict[str, Any] = Field(default_factory=dict)
    environment: str = Field(description="Where it was registered.")
    available_in: list[str]
    aliases: dict[str, list[str]] = Field(
        default_factory=dict, description="environment → aliases pointing at this version"
    )
    run_id: str | None
    datasets: list[str] = Field(default_factory=list, description="The run's input datasets.")
    description: str
    tags: dict[str, str]
    created_at: datetime
    created_by: str


class ModelInfo(Compact):
    shown = ("workspace", "name", "versions", "latest_version")

    workspace: str
    name: str
    description: str
    tags: dict[str, str]
    created_at: datetime
    created_by: str
    latest_version: int | None
    versions: int
    aliases: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="environment → alias → version"
    )


class ModelDetail(ModelInfo):
    version_list: list[ModelVersionInfo]


class AliasEventInfo(BaseModel):
    model: str
    environment: str
    alias: str
    from_version: int | None
    to_version: int | None
    at: datetime
    by: str
    reason: str


class LeaderboardEntry(BaseModel):
    rank: int | None = Field(description="1 is best; null: no value, so not ranked (see note).")
    version: int
    value: float | None
    run_id: str | None
    environment: str
    aliases: list[str] = Field(default_factory=list)
    source: str = Field(default="logged", description="logged (the run's metric) or evaluated")
    note: str = Field(default="", description="Why the version has no value, if it has none.")
