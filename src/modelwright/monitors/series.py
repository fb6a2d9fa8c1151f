"""Monitors of a dataset series: a dataset whose versions arrive over time (batch outputs).

An evaluation reads the versions registered in its window (``created_at`` in (start, end]),
concatenates their rows, at most ``LIMIT`` of them (a uniform sample beyond, said so in the
details), and computes the drift and quality signals on the features present in both the
baseline and the series, and prediction drift on the series' prediction column. The versions
are chosen here, in the server; the child process reads them through ``read_series``, which
takes the loader so that this module stays below the client.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.errors import InvalidInput
from modelwright.monitors.predictions import prediction_drift
from modelwright.monitors.signals import Row, evaluate, no_data, result
from modelwright.store import schema

__all__ = [
    "LIMIT",
    "check_series",
    "default_features",
    "evaluate_series",
    "read_series",
    "versions_in_window",
]

LIMIT = 1_000_000  # rows of one window compared; beyond, a uniform sample
# Columns batch inference writes next to its predictions: never features.
_BATCH_COLUMNS = ("_row", "_error")
_SEED = 0  # the same window samples the same rows on a replay
V = schema.DatasetVersion


def default_features(
    columns: Sequence[str], prediction_column: str, label_column: str | None
) -> list[str]:
    """The baseline's columns but its predictions, its label and batch bookkeeping."""
    skip = {prediction_column, label_column, *_BATCH_COLUMNS}
    return [c for c in columns if c not in skip and not c.startswith(f"{prediction_column}_")]


def _columns(version: schema.DatasetVersion) -> list[str]:
    return [c["name"] for c in version.schema_ or []]


def _ref(version: schema.DatasetVersion) -> str:
    return f"{version.dataset.name}@v{version.version}"


def check_series(
    ctx: Context,
    env: schema.Environment,
    dataset: str,
    baseline: schema.DatasetVersion,
    *,
    features: list[str] | None,
    signals: Sequence[str],
    prediction_column: str,
    baseline_predictions: str,
    label_column: str | None,
) -> schema.Dataset:
    """The series' dataset, once the request can be evaluated (else InvalidInput)."""
    series = ctx.session.scalar(
        select(schema.Dataset).where(
            schema.Dataset.environment_id == env.id, schema.Dataset.name == dataset
        )
    )
    where = f"{env.workspace.name}/{env.name}"
    if series is None:
        raise InvalidInput(
            f"dataset: no dataset '{dataset}' in {where} (register its first version, a batch "
            "run's --output, before monitoring it)",
            details={"field": "dataset", "dataset": dataset},
        )
    columns = _columns(baseline)
    if not columns:
        raise InvalidInput(
            f"baseline: dataset {_ref(baseline)} is not tabular (no schema)",
            details={"field": "baseline"},
        )
    if features is not None:
        missing = [f for f in features if f not in columns]
        if missing:
            raise InvalidInput(
                f"features: the baseline {_ref(baseline)} lacks the column(s) "
                f"{', '.join(map(repr, missing))}",
                details={"field": "features", "missing_columns": missing},
            )
    if "prediction" in signals:
        wanted = label_column if baseline_predictions == "label" else prediction_column
        field = "label_column" if baseline_predictions == "label" else "prediction_column"
        if wanted not in columns:
            raise InvalidInput(
                f"{field}: the baseline {_ref(baseline)} has no column '{wanted}' to compare "
                "the series' predictions with (a scored baseline, or baseline_predictions="
                "label with its label_column)",
                details={"field": field, "missing_columns": [wanted]},
            )
    return series


def versions_in_window(
    ctx: Context, series: schema.Dataset, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The versions registered in (start, end], oldest first: ref and row count (if known)."""
    found = ctx.session.scalars(
        select(V)
        .where(V.dataset_id == series.id, V.created_at > start, V.created_at <= end)
        .order_by(V.version)
    )
    env = series.environment
    return [
        {
            "ref": f"{env.name}/{series.name}@v{v.version}",
            "version": v.version,
            "rows": (v.profile or {}).get("rows"),
        }
        for v in found
    ]


def read_series(
    load: Callable[[str], pd.DataFrame],
    versions: Sequence[dict[str, Any]],
    columns: Sequence[str],
    limit: int = LIMIT,
) -> tuple[pd.DataFrame, int, str]:
    """The window's rows (only ``columns`` the versions have), the number of rows the window
    holds, and what was read. Each version is loaded alone and cut to its share of ``limit``
    (shares from the row counts registered with the versions), so that memory holds one
    version and the sample, never the whole window."""
    known = [v.get("rows") for v in versions]
    total_known = sum(int(n) for n in known if n is not None) if None not in known else None
    parts: list[pd.DataFrame] = []
    total = 0
    for v in versions:
        frame = load(v["ref"])
        frame = frame[[c for c in columns if c in frame.columns]]
        total += len(frame)
        if total_known is not None and total_known > limit:
            share = round(limit * len(frame) / total_known)
            frame = frame.sample(n=min(share, len(frame)), random_state=_SEED)
        parts.append(frame.reset_index(drop=True))
    current = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if len(current) > limit:
        current = current.sample(n=limit, random_state=_SEED).reset_index(drop=True)
    names = ", ".join(f"v{v['version']}" for v in versions)
    detail = f"{total} row(s) of {len(versions)} version(s) ({names})"
    if len(current) < total:
        detail += f"; a uniform sample of {len(current)} row(s) compared"
    return current, total, detail


def evaluate_series(
    plan: dict[str, Any],
    current: pd.DataFrame,
    total: int,
    read: str,
    baseline: Callable[[], pd.DataFrame],
) -> list[Row]:
    """The drift, quality and prediction values of one window of the series."""
    signals = [s for s in plan["signals"] if s in ("drift", "quality")]
    options = plan["options"]
    column = options["prediction_column"]
    explicit = options.get("features") is not None
    features: list[str] = plan["features"]
    if not plan["versions"]:
        detail = f"no version of {plan['dataset']} registered in the window"
        rows = [r for s in signals for r in no_data(s, features, detail)]
        if "prediction" in plan["signals"]:
            rows.append(result("prediction", "drift", None, None, detail=detail))
        return rows
    # Default features: those the series carries (batch outputs may hold predictions only);
    # named ones missing from it are a schema mismatch.
    compared = features if explicit else [f for f in features if f in current.columns]
    rows = []
    if signals and not compared:
        detail = f"no feature of the baseline in {plan['dataset']}: {read}"
        if "drift" in signals:
            rows.append(result("drift", "drift_share", None, None, detail=detail))
        if "quality" in signals:
            rows.append(_rows(total, plan["thresholds"], read))
    elif signals:
        found = evaluate(baseline(), current, compared, signals, plan["thresholds"])
        for r in found:
            if r["metric"] == "rows":  # the window's size, not the sample's
                r.update(_rows(total, plan["thresholds"], read))
            elif r["metric"] == "drift_share":
                r["detail"] = "; ".join(x for x in (r["detail"], read) if x)
        rows += found
    if "prediction" in plan["signals"]:
        rows += _prediction(plan, current, column, baseline, read)
    return rows


def _rows(total: int, t: dict[str, float], detail: str) -> Row:
    status = "alert" if total < t["min_rows"] else "ok"
    return result(
        "quality", "rows", None, float(total), t["min_rows"], status=status, detail=detail
    )


def _prediction(
    plan: dict[str, Any],
    current: pd.DataFrame,
    column: str,
    baseline: Callable[[], pd.DataFrame],
    read: str,
) -> list[Row]:
    threshold = plan["thresholds"].get("prediction_drift")
    if column not in current.columns:
        detail = f"{plan['dataset']} has no column '{column}': {read}"
        return [result("prediction", "drift", None, None, status="error", detail=detail)]
    options = plan["options"]
    ref = options["label_column"] if options["baseline_predictions"] == "label" else column
    frame = baseline()
    return prediction_drift(frame[ref], current[column], threshold, detail=f"baseline's {ref}")
