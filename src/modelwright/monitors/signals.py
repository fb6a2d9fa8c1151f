"""The drift and data quality signals of one window, as rows of the monitor's time series.

Pure pandas over ``modelwright.monitoring``: the workflow's child process calls ``evaluate``
with the baseline, the decoded captured rows and the model's input features. Current values
are first cast to the baseline's column types (JSON makes every number a float and every
category a string), and what does not fit is counted as a type mismatch rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from modelwright.monitoring import DriftInputError, drift, infer_kind
from modelwright.monitoring.results import ColumnKind

__all__ = ["Row", "evaluate", "no_data", "result"]

Row = dict[str, Any]
NO_ROWS = "no captured request in the window"


def result(
    signal: str,
    metric: str,
    feature: str | None,
    value: float | None,
    threshold: float | None = None,
    *,
    status: str | None = None,
    detail: str = "",
) -> Row:
    """One value; its status, unless given, is ``alert`` above the threshold, ``no_data``
    without a value, else ``ok``."""
    if status is None:
        status = _above(value, threshold)
    return {
        "signal": signal,
        "metric": metric,
        "feature": feature,
        "value": None if value is None or np.isnan(value) else float(value),
        "threshold": threshold,
        "status": status,
        "detail": detail,
    }


def _above(value: float | None, threshold: float | None) -> str:
    if value is None:
        return "no_data"
    return "alert" if threshold is not None and value > threshold else "ok"


def no_data(signal: str, features: Sequence[str], detail: str) -> list[Row]:
    """An empty window: every value of the signal is explicitly unknown, never "no drift"."""
    if signal == "quality":
        return [result("quality", "rows", None, 0.0, status="no_data", detail=detail)]
    return [
        result("drift", "drift_share", None, None, detail=detail),
        *(result("drift", "drift", f, None, detail=detail) for f in features),
    ]


def evaluate(
    baseline: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str],
    signals: Sequence[str],
    thresholds: dict[str, float],
    *,
    undecodable: int = 0,
) -> list[Row]:
    """The rows of the ``drift`` and ``quality`` signals asked for."""
    if len(current) == 0:
        detail = NO_ROWS + (f" ({undecodable} unreadable)" if undecodable else "")
        return [
            r for s in signals if s in ("drift", "quality") for r in no_data(s, features, detail)
        ]
    present = [f for f in features if f in current.columns]
    absent = [f for f in features if f not in current.columns]
    aligned, mismatched = _aligned(baseline, current, present)
    rows: list[Row] = []
    if "quality" in signals:
        for f in absent:
            detail = f"column '{f}' of the model's inputs is missing from every captured request"
            rows.append(result("quality", "schema_mismatch", f, 1.0, status="alert", detail=detail))
        for f in present:
            rows += _quality(
                f, baseline[f], current[f], aligned[f], mismatched=mismatched[f], t=thresholds
            )
        unread = f"{undecodable} captured request(s) could not be read" if undecodable else ""
        count = float(len(current))
        status = "alert" if count < thresholds["min_rows"] else "ok"
        rows.append(
            result(
                "quality", "rows", None, count, thresholds["min_rows"], status=status, detail=unread
            )
        )
    if "drift" in signals:
        rows += _drift(baseline, aligned, present, absent, thresholds)
    return rows


# -- types ------------------------------------------------------------------------------------
def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _aligned(
    baseline: pd.DataFrame, current: pd.DataFrame, features: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Current columns in the baseline's types; per feature, how many values did not fit."""
    out: dict[str, pd.Series] = {}
    mismatched: dict[str, int] = {}
    for f in features:
        ref, raw = baseline[f], current[f]
        if _numeric(ref):
            cast = pd.to_numeric(raw.where(raw.map(_is_number)), errors="coerce")
            integral = cast.notna().all() and (cast == cast.round()).all()
            if pd.api.types.is_integer_dtype(ref) and integral:
                cast = cast.astype(ref.dtype)
        elif pd.api.types.is_bool_dtype(ref):
            cast = raw.where(raw.map(lambda v: isinstance(v, bool | np.bool_)))
        elif pd.api.types.is_datetime64_any_dtype(ref):
            cast = pd.to_datetime(raw, errors="coerce", utc=ref.dt.tz is not None)
        else:
            cast = raw.where(raw.map(lambda v: isinstance(v, str))).astype(object)
        mismatched[f] = int((raw.notna() & cast.isna()).sum())
        out[f] = cast
    return pd.DataFrame(out, index=current.index), mismatched


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


# -- quality ----------------------------------------------------------------------------------
def _quality(
    f: str, ref: pd.Series, raw: pd.Series, cur: pd.Series, *, mismatched: int, t: dict[str, float]
) -> list[Row]:
    n = len(raw)
    wrong = f"{mismatched} value(s) not of the baseline's type {ref.dtype}" if mismatched else ""
    rows = [
        result("quality", "missing_share", f, float(raw.isna().sum()) / n, t["missing_share"]),
        result(
            "quality",
            "type_mismatch_share",
            f,
            mismatched / n,
            t["type_mismatch_share"],
            detail=wrong,
        ),
    ]
    values = cur.dropna()
    if _numeric(ref):
        rows.append(_out_of_range(f, ref, values, t["out_of_range_share"]))
    elif not pd.api.types.is_datetime64_any_dtype(ref):
        rows.append(_unseen(f, ref, values, t["unseen_share"]))
    return rows


def _out_of_range(f: str, ref: pd.Series, values: pd.Series, threshold: float) -> Row:
    finite = ref[np.isfinite(ref.astype(float))]
    if values.empty or finite.empty:
        return result("quality", "out_of_range_share", f, None, threshold, detail="no value")
    low, high = float(finite.min()), float(finite.max())
    outside = int(((values < low) | (values > high)).sum())
    detail = f"{outside} value(s) outside the baseline's [{low:g}, {high:g}]"
    return result(
        "quality", "out_of_range_share", f, outside / len(values), threshold, detail=detail
    )


def _unseen(f: str, ref: pd.Series, values: pd.Series, threshold: float) -> Row:
    if values.empty:
        return result("quality", "unseen_share", f, None, threshold, detail="no value")
    text = values.astype(str)
    unseen = text[~text.isin(set(ref.dropna().astype(str)))]
    shown = ", ".join(repr(v) for v in sorted(set(unseen))[:5])
    detail = f"categories not in the baseline: {shown}" if shown else ""
    return result("quality", "unseen_share", f, len(unseen) / len(values), threshold, detail=detail)


# -- drift ------------------------------------------------------------------------------------
def _drift(
    baseline: pd.DataFrame,
    aligned: pd.DataFrame,
    present: Sequence[str],
    absent: Sequence[str],
    t: dict[str, float],
) -> list[Row]:
    rows = [
        result("drift", "drift", f, None, detail="missing from the captured requests")
        for f in absent
    ]
    if not present:
        detail = "no feature of the model in the captured requests"
        return [result("drift", "drift_share", None, None, detail=detail), *rows]
    # Types come from the baseline (the typed data), not from the JSON-decoded window.
    types: dict[str, ColumnKind] = {f: infer_kind(baseline[f]) for f in present}
    try:
        found = drift(
            baseline[list(present)],
            aligned[list(present)],
            column_types=types,
            threshold=t.get("drift"),
            drift_share=t["drift_share"],
        )
    except DriftInputError as exc:
        return [result("drift", "drift_share", None, None, status="error", detail=exc.message)]
    for c in found:
        if c.status == "ok":
            status = "alert" if c.drifted else "ok"
            label = c.method_label or c.method or ""
            rows.append(
                result(
                    "drift", "drift", c.column, c.score, c.threshold, status=status, detail=label
                )
            )
        else:  # empty: no value left (all NaN); skipped: a type drift does not test
            status = "no_data" if c.status == "empty" else "ok"
            rows.append(
                result("drift", "drift", c.column, None, status=status, detail=c.reason or "")
            )
    tested = found.number_of_columns
    if not tested:
        share = result("drift", "drift_share", None, None, t["drift_share"], detail="no values")
    else:
        share = result(
            "drift",
            "drift_share",
            None,
            found.share,
            t["drift_share"],
            status="alert" if found.dataset_drift else "ok",
            detail=f"{found.number_of_drifted_columns} of {tested} feature(s) drifted",
        )
    return [share, *rows]
