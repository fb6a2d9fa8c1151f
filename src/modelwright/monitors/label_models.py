"""Requests and responses of ground-truth labels: the true outcome of captured requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt, StrictStr

from modelwright.core.ints import INT64_MAX, INT64_MIN
from modelwright.monitors.models import MonitorRef

__all__ = ["LabelInfo", "LabelRecord", "LabelValue", "LabelsLogged", "LogLabels", "QueryLabels"]

RequestId = Annotated[str, Field(min_length=1, max_length=200)]
# A class (a string, an integer, a boolean) or a number; JSON has no NaN or infinity.
LabelValue = (
    StrictBool
    | Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]
    | Annotated[float, Field(ge=-1e300, le=1e300, allow_inf_nan=False)]
    | Annotated[StrictStr, Field(max_length=200)]
)
MAX_LABELS = 100_000


class LabelRecord(BaseModel):
    request_id: RequestId = Field(description="The request id the endpoint's capture stores.")
    label: LabelValue


class LogLabels(MonitorRef):
    labels: list[LabelRecord] = Field(
        min_length=1,
        max_length=MAX_LABELS,
        description="True outcomes keyed by request id; a request id sent again (here or "
        "before) keeps the last label.",
    )


class LabelsLogged(BaseModel):
    monitor: str
    received: int = Field(description="Distinct request ids in the request.")
    stored: int = Field(description="Labels of request ids without one before.")
    replaced: int = Field(description="Labels that replaced one stored for the same request id.")
    unknown: int = Field(
        description="Request ids the endpoint's capture does not hold (yet): stored all the "
        "same, reported as unmatched by evaluations while no capture matches them."
    )
    unknown_examples: list[str] = Field(description="The first few unknown request ids.")


class QueryLabels(MonitorRef):
    request_ids: list[RequestId] | None = Field(
        default=None, max_length=10_000, description="Only these request ids."
    )
    received_since: datetime | None = None
    received_until: datetime | None = None
    limit: int = Field(default=10_000, ge=1, le=MAX_LABELS)


class LabelInfo(BaseModel):
    request_id: str
    label: bool | int | float | str
    received_at: datetime
    received_by: str
