"""Promotion policies: the gates a model version must pass to enter an environment.

Declared per environment in ``platform.yaml`` (``promotion:``), stored with the environment
and copied onto each promotion when it is requested, so a later edit of the policy never
changes the rules of a promotion under way.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from modelwright.core.names import NAME_PATTERN

__all__ = [
    "ApprovalGate",
    "ChampionGate",
    "EvaluationGate",
    "Gate",
    "MetricGate",
    "PolicyGate",
    "PromotionPolicy",
    "SmokeGate",
    "Threshold",
    "parse_threshold",
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_THRESHOLD = re.compile(
    r"^\s*([A-Za-z_][\w./-]*)\s*(>=|<=|==|!=|>|<)\s*([-+]?[\d.]+(?:[eE][-+]?\d+)?)\s*$"
)

# A pinned dataset version: replaying "the latest" would make the gate's evidence unrepeatable.
_DATASET = re.compile(r"^[A-Za-z0-9][\w.-]*@v?\d+$")


@dataclass(frozen=True)
class Threshold:
    metric: str
    op: str
    bound: float

    def holds(self, value: float) -> bool:
        return not math.isnan(value) and _OPS[self.op](value, self.bound)

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"


def parse_threshold(text: str) -> Threshold:
    """``"val_auc >= 0.8"`` → Threshold; a ``ValueError`` that says what is wrong."""
    match = _THRESHOLD.match(text)
    if match is None:
        raise ValueError(
            f"'{text}' is not a threshold: write <metric> <op> <number>, with op one of "
            f"{', '.join(_OPS)} (e.g. 'val_auc >= 0.8')"
        )
    try:
        bound = float(match.group(3))
    except ValueError:
        raise ValueError(f"'{text}': '{match.group(3)}' is not a number") from None
    return Threshold(match.group(1), match.group(2), bound)


def _parse_all(values: list[str]) -> list[str]:
    for text in values:
        parse_threshold(text)
    return values


# Every one parses, so a typo is refused with the policy, not when a promotion meets it.
_Thresholds = Annotated[list[str], AfterValidator(_parse_all)]


class _Gate(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricGate(_Gate):
    """Thresholds on the metrics logged by the run that produced the version."""

    kind: Literal["metric"]
    require: _Thresholds = Field(min_length=1, max_length=64, description="e.g. 'val_auc >= 0.8'")


class PolicyGate(_Gate):
    """What the version must carry to enter: checked on its record, nothing run."""

    kind: Literal["policy"]
    signature: bool = Field(default=True, description="A signature (input schema) is recorded.")
    allow_pickle: bool = Field(default=False, description="Pickle serialisation is accepted.")
    pinned_requirements: bool = Field(default=True, description="Every requirement is pinned (==).")
    training_data: bool = Field(
        default=True, description="The run that produced it recorded its input datasets."
    )
    description: bool = Field(default=False, description="The version has a description.")


class EvaluationGate(_Gate):
    """Re-score the version on a holdout dataset version readable in the target, with the
    leaderboard's metrics, and hold the thresholds."""

    kind: Literal["evaluation"]
    dataset: str = Field(min_length=1, max_length=200, description="name@vN in the target.")
    label: str | None = Field(default=None, max_length=200)
    require: _Thresholds = Field(min_length=1, max_length=64, description="e.g. 'roc_auc >= 0.8'")


class ChampionGate(_Gate):
    """The candidate is not worse than the target's current champion by more than
    ``margin``, both scored on the same holdout (a fair comparison)."""

    kind: Literal["champion"]
    dataset: str = Field(min_length=1, max_length=200, description="name@vN in the target.")
    label: str | None = Field(default=None, max_length=200)
    metric: str = Field(min_length=1, max_length=64)
    alias: str = Field(default="champion", min_length=1, max_length=64)
    margin: float = Field(default=0.0, ge=0.0)
    higher_is_better: bool | None = Field(default=None, description="Default: from the name.")


class SmokeGate(_Gate):
    """Serve the version on a temporary endpoint, replay rows to it over HTTP and require
    every answer to be a 2xx, the 99th percentile of latency under ``p99_ms`` and each answer
    equal to the version's offline prediction on the same row; then tear it down."""

    kind: Literal["smoke"]
    rows: int = Field(default=100, ge=1, le=10_000, description="Rows replayed, one request each.")
    dataset: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="name@vN in the target; default: the version's recorded input example.",
    )
    p99_ms: float = Field(
        default=500.0, gt=0, le=600_000, description="Bound on the 99th percentile of latency."
    )

    @field_validator("dataset")
    @classmethod
    def _dataset(cls, value: str | None) -> str | None:
        if value is not None and not _DATASET.match(value):
            raise ValueError(
                f"'{value}' is not a dataset version: write <name>@v<N> (e.g. 'holdout@v1'), "
                "a dataset version of the target environment"
            )
        return value


class ApprovalGate(_Gate):
    """Approvals by principals holding promotion.approve in the target environment, none of
    whom requested the promotion or produced the version (four eyes)."""

    kind: Literal["approval"]
    approvals: int = Field(default=1, ge=1, le=10)
    expires_hours: float = Field(
        default=168.0, gt=0, le=24 * 365, description="An older approval no longer counts."
    )


Gate = Annotated[
    MetricGate | PolicyGate | EvaluationGate | ChampionGate | SmokeGate | ApprovalGate,
    Field(discriminator="kind"),
]


class PromotionPolicy(BaseModel):
    """The gates to enter an environment, in order."""

    model_config = ConfigDict(extra="forbid")

    gates: list[Gate] = Field(default_factory=list, max_length=32)
    allow_skip: bool = Field(
        default=False,
        description="May be entered from an environment earlier than the previous one.",
    )
    allow_from: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Environments of other workspaces ('workspace/environment') whose "
        "versions may be promoted into this one (one workspace per environment).",
    )

    @field_validator("allow_from")
    @classmethod
    def _allow_from(cls, values: list[str]) -> list[str]:
        for text in values:
            parts = text.split("/")
            if len(parts) != 2 or not all(re.fullmatch(NAME_PATTERN, p) for p in parts):
                raise ValueError(f"'{text}': expected 'workspace/environment'")
        return values
