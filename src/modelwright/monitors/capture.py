"""Reading an endpoint's captured requests back as rows of input features.

Capture files (``serving.capture``) hold each sampled request's body as text, in whichever
format its caller chose; here each is decoded leniently into rows, without the signature's
checks, so a request the model refused (a missing column, a wrong type) still shows in the
data quality signal instead of vanishing. Mirrored (shadow) copies are left out: the request
they copy is captured by the deployment that answered it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson
import pandas as pd

__all__ = ["capture_days", "captured_ids", "decode_requests", "read_capture"]

_COLUMNS = ["request_id", "at", "deployment", "status", "request", "response"]


def capture_days(start: datetime, end: datetime) -> list[str]:
    """The ``date=`` partitions a window touches."""
    days, day = [], start.date()
    while day <= end.date():
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def read_capture(url: str, endpoint: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Captured requests of every deployment of ``endpoint`` with ``start < at <= end``."""
    import fsspec
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs, root = fsspec.core.url_to_fs(f"{url.rstrip('/')}/capture/{endpoint}")
    tables = []
    for day in capture_days(start, end):
        for path in sorted(fs.glob(f"{root}/*/date={day}/*.parquet")):
            with fs.open(path, "rb") as fh:
                tables.append(pq.read_table(fh))
    if not tables:
        return pd.DataFrame(columns=_COLUMNS)
    frame = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    at = pd.to_datetime(frame["at"], utc=True)
    keep = (at > pd.Timestamp(start)) & (at <= pd.Timestamp(end))
    if "shadow" in frame:
        keep &= ~frame["shadow"].fillna(False).astype(bool)
    return frame.loc[keep, _COLUMNS].reset_index(drop=True)


def captured_ids(url: str, endpoint: str, wanted: Iterable[str]) -> set[str]:
    """Which of ``wanted`` some capture file of ``endpoint`` holds (any day, any deployment;
    only the request id column is read)."""
    import fsspec
    import pyarrow.parquet as pq

    wanted = set(wanted)
    fs, root = fsspec.core.url_to_fs(f"{url.rstrip('/')}/capture/{endpoint}")
    found: set[str] = set()
    for path in sorted(fs.glob(f"{root}/*/date=*/*.parquet")):
        with fs.open(path, "rb") as fh:
            ids = pq.read_table(fh, columns=["request_id"]).column("request_id").to_pylist()
        found.update(i for i in ids if i in wanted)
        if len(found) == len(wanted):
            break
    return found


def decode_requests(bodies: Iterable[str], names: list[str] | None) -> tuple[pd.DataFrame, int]:
    """(the rows the bodies hold, how many bodies could not be read). ``names`` give the
    columns of positional rows (``instances: [[1, 2]]``)."""
    rows: list[dict[str, Any]] = []
    bad = 0
    for body in bodies:
        try:
            rows.extend(_rows(body, names))
        except (ValueError, TypeError, KeyError, IndexError, orjson.JSONDecodeError):
            bad += 1
    return pd.DataFrame.from_records(rows), bad


def _rows(body: str, names: list[str] | None) -> list[dict[str, Any]]:
    text = body.lstrip()
    if not text.startswith("{"):
        return pd.read_csv(io.StringIO(body)).to_dict("records")  # type: ignore[no-any-return]
    payload = orjson.loads(text)
    if not isinstance(payload, dict):
        raise ValueError("not an object")
    if "dataframe_records" in payload:
        return _records(payload["dataframe_records"], names)
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        columns: list[str] = split.get("columns") or names or []
        return [dict(zip(columns, row, strict=True)) for row in split["data"]]
    if "instances" in payload:
        return _records(payload["instances"], names)
    if "inputs" in payload:
        return _inputs(payload["inputs"], names)
    raise ValueError("no known format")


def _records(value: Any, names: list[str] | None) -> list[dict[str, Any]]:
    if isinstance(value, dict):  # columns: {"a": [1, 2], "b": [3, 4]}
        return pd.DataFrame(value).to_dict("records")  # type: ignore[no-any-return]
    out = []
    for row in value:
        if isinstance(row, dict):
            out.append(row)
        elif isinstance(row, list) and names:
            out.append(dict(zip(names, row, strict=True)))
        elif names and len(names) == 1:
            out.append({names[0]: row})
        else:
            raise ValueError("a row that is neither an object nor a list of the inputs")
    return out


def _inputs(value: Any, names: list[str] | None) -> list[dict[str, Any]]:
    # Open Inference Protocol: [{"name": ..., "shape": [n], "datatype": ..., "data": [...]}].
    if (
        isinstance(value, list)
        and value
        and all(isinstance(t, dict) and "name" in t and "data" in t for t in value)
    ):
        return pd.DataFrame({t["name"]: t["data"] for t in value}).to_dict("records")  # type: ignore[no-any-return]
    return _records(value, names)
