"""What changed between two dataset versions: schema, then each column's profile."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from modelwright.data.models import ColumnProfile, DatasetVersionInfo

__all__ = ["ColumnDiff", "DatasetDiff", "StatChange", "diff_versions"]

Scalar = int | float | str | None
# The statistics compared, in display order; "median" is the 0.5 quantile.
STATS = ("count", "missing", "distinct", "infinite", "min", "max", "mean", "std", "median")
# Categories listed as appearing or disappearing, at most.
MAX_VALUES = 20


class StatChange(BaseModel):
    stat: str
    a: Scalar
    b: Scalar
    change: float | None = Field(
        description="b - a for numbers (None when either side is missing or not a number)."
    )


class ColumnDiff(BaseModel):
    name: str
    status: Literal["added", "removed", "changed", "unchanged"]
    type_a: str | None
    type_b: str | None
    stats: list[StatChange] = Field(default_factory=list, description="Only what differs.")
    new_values: list[str] = Field(
        default_factory=list, description="Frequent values of b that a did not have."
    )
    gone_values: list[str] = Field(
        default_factory=list, description="Frequent values of a that b does not have."
    )


class DatasetDiff(BaseModel):
    a: str
    b: str
    same_content: bool = Field(description="Both versions have the same digest.")
    size: tuple[int, int]
    files: tuple[int, int]
    rows: tuple[int | None, int | None]
    schema_changed: bool
    columns: list[ColumnDiff] = Field(description="b's columns in order, then removed ones.")


def diff_versions(a: DatasetVersionInfo, b: DatasetVersionInfo) -> DatasetDiff:
    types_a = {c.name: c.type for c in a.columns or []}
    types_b = {c.name: c.type for c in b.columns or []}
    prof_a = a.profile.columns if a.profile else {}
    prof_b = b.profile.columns if b.profile else {}
    columns = []
    for name in [*types_b, *(n for n in types_a if n not in types_b)]:
        ta, tb = types_a.get(name), types_b.get(name)
        if ta is None:
            columns.append(ColumnDiff(name=name, status="added", type_a=None, type_b=tb))
            continue
        if tb is None:
            columns.append(ColumnDiff(name=name, status="removed", type_a=ta, type_b=None))
            continue
        col = _column(name, ta, tb, prof_a.get(name), prof_b.get(name))
        columns.append(col)
    return DatasetDiff(
        a=f"{a.name}@v{a.version}",
        b=f"{b.name}@v{b.version}",
        same_content=a.digest == b.digest,
        size=(a.size, b.size),
        files=(a.files, b.files),
        rows=(a.profile.rows if a.profile else None, b.profile.rows if b.profile else None),
        schema_changed=[(c.name, c.type) for c in a.columns or []]
        != [(c.name, c.type) for c in b.columns or []],
        columns=columns,
    )


def _column(
    name: str, ta: str, tb: str, pa: ColumnProfile | None, pb: ColumnProfile | None
) -> ColumnDiff:
    stats: list[StatChange] = []
    new_values: list[str] = []
    gone_values: list[str] = []
    if pa is not None and pb is not None:
        for stat in STATS:
            va, vb = _stat(pa, stat), _stat(pb, stat)
            if va != vb:
                stats.append(StatChange(stat=stat, a=va, b=vb, change=_delta(va, vb)))
        ca, cb = pa.value_counts or {}, pb.value_counts or {}
        new_values = [v for v in cb if v not in ca][:MAX_VALUES]
        gone_values = [v for v in ca if v not in cb][:MAX_VALUES]
    changed = ta != tb or stats or new_values or gone_values
    return ColumnDiff(
        name=name,
        status="changed" if changed else "unchanged",
        type_a=ta,
        type_b=tb,
        stats=stats,
        new_values=new_values,
        gone_values=gone_values,
    )


def _stat(p: ColumnProfile, stat: str) -> Scalar:
    if stat == "median":
        return (p.quantiles or {}).get("0.5")
    value: Scalar = getattr(p, stat)
    return value


def _delta(a: Scalar, b: Scalar) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(b) - float(a)
    return None
