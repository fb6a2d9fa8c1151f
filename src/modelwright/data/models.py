"""Requests and responses of the dataset operations, and the shape of a profile."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from modelwright.core.models import Compact, Request
from modelwright.core.names import Name, check_name
from modelwright.core.pages import PageParams
from modelwright.errors import InvalidInput
from modelwright.tracking.models import RunId

__all__ = [
    "LATEST",
    "MAX_DIGESTS",
    "ColumnProfile",
    "ColumnSchema",
    "DatasetDetail",
    "DatasetInfo",
    "DatasetProfile",
    "DatasetRef",
    "DatasetVersionInfo",
    "DatasetVersionRef",
    "DatasetVersionSummary",
    "DiffDatasets",
    "Digest",
    "Format",
    "Histogram",
    "Kind",
    "ListDatasets",
    "LoadDataset",
    "PrepareUpload",
    "RegisterDataset",
    "UploadPlan",
    "VersionSpec",
    "parse_ref",
    "parse_version",
]

LATEST = "latest"
# One upload plan per request; the client splits bigger directories into several.
MAX_DIGESTS = 50_000

Kind = Literal["file", "directory", "dataframe"]
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
# parquet | csv | tsv | json (JSON lines) | binary | a file extension | mixed (a directory)
Format = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_+-]{0,15}$")]

_VERSION = re.compile(r"v?([1-9][0-9]{0,8})")


def parse_version(text: str, field: str = "version") -> int | None:
    """``"latest"`` → None; ``"v3"`` or ``"3"`` → 3; anything else raises ``InvalidInput``."""
    if text == LATEST:
        return None
    match = _VERSION.fullmatch(text)
    if match is None:
        raise InvalidInput(
            f"{field}: expected 'latest', 'v<number>' or '<number>' (got {text[:80]!r})",
            details={"field": field},
        )
    return int(match.group(1))


def parse_ref(ref: str, field: str = "ref") -> tuple[str, int | None]:
    """``"name@v3"``, ``"name@3"``, ``"name@latest"`` or ``"name"`` → (name, 3 or None)."""
    name, sep, version = ref.partition("@")
    check_name(name, field)
    if not sep:
        return name, None
    return name, parse_version(version, field)


def _version_spec(value: str) -> str:
    try:
        parse_version(value)
    except InvalidInput as exc:
        raise ValueError(exc.message.removeprefix("version: ")) from None
    return value


VersionSpec = Annotated[
    str,
    AfterValidator(_version_spec),
    WithJsonSchema({"type": "string", "pattern": rf"^(?:{LATEST}|{_VERSION.pattern})$"}),
]


# -- requests -----------------------------------------------------------------------------------
class ListDatasets(PageParams, Request):
    workspace: Name
    environment: Name | None = Field(default=None, description="Only this environment.")


class DatasetRef(Request):
    workspace: Name
    environment: Name
    name: Name


class DatasetVersionRef(DatasetRef):
    version: VersionSpec = Field(description="'latest', 'v3' or '3'.")


class PrepareUpload(Request):
    """Before any bytes move: may the caller write here, and which objects are missing?"""

    workspace: Name
    environment: Name
    name: Name
    datastore: Name | None = Field(
        default=None, description="Default: the environment's only datastore, or 'default'."
    )
    run_id: RunId | None = None
    digests: list[Digest] = Field(default_factory=list, max_length=MAX_DIGESTS)


class RegisterDataset(Request):
    """Record a version whose objects are already in the datastore."""

    workspace: Name
    environment: Name
    name: Name
    datastore: Name | None = None
    kind: Kind
    format: Format
    digest: Digest = Field(description="sha256 of the file, or of the directory's manifest.")
    description: str = Field(default="", max_length=2000)
    run_id: RunId | None = Field(
        default=None, description="The run that produced it (recorded as lineage)."
    )


class LoadDataset(DatasetVersionRef):
    run_id: RunId | None = Field(
        default=None, description="The run that reads it (recorded as lineage)."
    )


class CopyDataset(DatasetVersionRef):
    """Copy a version's bytes into another environment (or workspace) as a new version: the
    one sanctioned way for production data to leave production, audited with its reason."""

    to_workspace: Name | None = Field(default=None, description="Default: the same workspace.")
    to_environment: Name
    to_datastore: Name | None = Field(
        default=None, description="Default: the target environment's only datastore."
    )
    to_name: Name | None = Field(default=None, description="Default: the same name.")
    reason: str = Field(
        min_length=1, max_length=2000, description="Why the copy is made (kept in the audit)."
    )


class DiffDatasets(Request):
    workspace: Name
    environment: Name
    a: str = Field(min_length=1, max_length=200, description="name@version")
    b: str = Field(min_length=1, max_length=200, description="name@version")


# -- responses ----------------------------------------------------------------------------------
class UploadPlan(BaseModel):
    datastore: str
    missing: list[str] = Field(description="The digests the datastore does not have yet.")


class ColumnSchema(BaseModel):
    name: str
    type: str = Field(description="Arrow type name: int64, double, string, bool, timestamp[us], …")


class Histogram(BaseModel):
    edges: list[float]
    counts: list[int]


class ColumnProfile(BaseModel):
    """Statistics of one column. Which fields are set depends on ``kind``.

    ``std`` is the sample standard deviation (ddof=1, as pandas); quantiles interpolate
    linearly (as pandas and numpy); numeric statistics are over finite values, with NaN and
    nulls counted as ``missing`` and infinities as ``infinite``.
    """

    kind: Literal["numeric", "categorical", "datetime", "empty", "other"]
    type: str
    count: int = Field(description="Values present (not missing).")
    missing: int
    distinct: int | None = None
    infinite: int | None = None
    min: int | float | str | None = None
    max: int | float | str | None = None
    mean: float | None = None
    std: float | None = None
    quantiles: dict[str, float] | None = None
    histogram: Histogram | None = None
    value_counts: dict[str, int] | None = Field(
        default=None, description="The most frequent values, most frequent first."
    )
    other: int | None = Field(default=None, description="How many values are not in value_counts.")
    approximate: list[str] | None = Field(
        default=None,
        description="The figures estimated by a sketch (a large table's quantiles, distinct "
        "count, value_counts and other); absent when every figure is exact.",
    )


class DatasetProfile(BaseModel):
    rows: int
    columns: dict[str, ColumnProfile]


class DatasetVersionSummary(Compact):
    shown: ClassVar[tuple[str, ...]] = ("version", "format", "rows", "size")

    version: int
    digest: str
    datastore: str
    kind: Kind
    format: str
    size: int
    files: int
    rows: int | None
    created_at: datetime
    created_by: str
    run_id: str | None


class DatasetVersionInfo(DatasetVersionSummary):
    shown = ("workspace", "environment", "name", "version", "format", "rows", "size")

    workspace: str
    environment: str
    name: str
    description: str
    classification: str = Field(description="The datastore's classification.")
    columns: list[ColumnSchema] | None = Field(description="The schema, for tabular data.")
    profile: DatasetProfile | None
    created: bool = Field(
        default=False, description="Whether this call created the version (register only)."
    )

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


class DatasetInfo(Compact):
    shown = ("workspace", "environment", "name", "versions")

    workspace: str
    environment: str
    name: str
    description: str
    created_at: datetime
    created_by: str
    versions: int
    latest: DatasetVersionSummary | None


class DatasetDetail(DatasetInfo):
    history: list[DatasetVersionSummary] = Field(description="Every version, oldest first.")
