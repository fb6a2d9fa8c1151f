"""MLflow's scoring protocol on ``POST /invocations``, read strictly.

What MLflow's scoring server takes, callers send here too: a JSON object holding exactly one
of ``dataframe_split``, ``dataframe_records``, ``instances`` or ``inputs``, optionally beside a
``params`` object (whose ``method`` chooses the prediction method: ``predict_proba``…), or
a ``text/csv`` body (read by pandas). Its structure is checked against
the signature before pandas or numpy see it, so a wrong row width, a scalar where rows are
expected, a null record or a nested array is a 400 naming the place (``instances[3]: …``)
rather than whatever exception the DataFrame constructor would raise.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from modelwright.errors import InvalidInput
from modelwright.registry.predict import check_method
from modelwright.registry.signature import Schema, Signature
from modelwright.serving._json import json_kind

__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "params_method",
    "parse_csv",
    "parse_payload",
    "split_params",
]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CONTENT_TYPES = ("application/json", "text/csv")
# The parameters naming the prediction method (MLflow's ``params``): ``method``, or
# ``predict_method`` as some MLflow wrappers call it. Any other parameter is ignored, as
# MLflow's scoring server ignores the ones a model does not declare.
_METHOD_PARAMS = ("method", "predict_method")
_SCALAR = (int, float, str, bool, type(None))


def _bad(field: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{field}: {problem}", details={"field": field.split("[", maxsplit=1)[0]})


def split_params(payload: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the payload without ``params``, the params); InvalidInput for any other shape."""
    if not isinstance(payload, dict):
        raise _bad(
            "body",
            f"expected a JSON object with one of {', '.join(FORMATS)}, got {json_kind(payload)}",
        )
    params = payload.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _bad("params", f"expected an object, got {json_kind(params)}")
    named = [k for k in _METHOD_PARAMS if k in params]
    if len(named) > 1:
        raise _bad("params", f"give the prediction method once (got {' and '.join(named)})")
    data = {k: v for k, v in payload.items() if k != "params"}
    unknown = [k for k in data if k not in FORMATS]
    if unknown:
        raise _bad(
            "body",
            f"unknown key {unknown[0]!r} (expected one of {', '.join(FORMATS)}, and params)",
        )
    if len(data) != 1:
        given = " and ".join(data) if data else "none"
        raise _bad("body", f"expected exactly one of {', '.join(FORMATS)}, got {given}")
    return data, params


def params_method(
    params: dict[str, Any], default: str, available: list[str], where: str = "params"
) -> str:
    """The prediction method the params ask for (``default`` if none); a bad name, or one
    the model does not have (not in ``available``), is a 400 naming the parameter."""
    for key in _METHOD_PARAMS:
        if key in params:
            field = f"{where}.{key}"
            method = check_method(params[key], field)
            if method not in available:
                raise _bad(field, f"this model has no {method} (it has {', '.join(available)})")
            return method
    return default


def parse_payload(data: dict[str, Any], signature: Signature | None) -> Any:
    """The model's input from a payload holding exactly one of FORMATS (see split_params)."""
    ((key, value),) = data.items()
    schema = signature.inputs if signature is not None else None
    try:
        if schema is not None and schema.kind == "tensor":
            return _tensor(key, value, schema)
        names = [c.name for c in schema.columns] if schema is not None else None
        if key == "dataframe_split":
            return _split(value, names)
        if key == "dataframe_records":
            return _records(key, value)
        return _instances(key, value, names)
    except (ValueError, TypeError, OverflowError) as exc:
        # The checks above should leave pandas nothing to refuse; if it does, it is still
        # the input's fault, said as such.
        raise _bad(key, f"cannot be read as the model's input ({exc})") from None


def _scalars(field: str, row: list[Any]) -> None:
    for j, v in enumerate(row):
        if not isinstance(v, _SCALAR):
            raise _bad(
                f"{field}[{j}]", f"expected a number, string, boolean or null, got {json_kind(v)}"
            )


def _rows(field: str, rows: Any, width: int | None, columns: list[str] | None) -> None:
    if not isinstance(rows, list):
        raise _bad(field, f"expected a list of rows, got {json_kind(rows)}")
    if not rows:
        raise _bad(field, "no rows")
    if width is None and isinstance(rows[0], list):
        width = len(rows[0])  # no columns to count: every row as long as the first
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise _bad(f"{field}[{i}]", f"expected a row (a list of values), got {json_kind(row)}")
        _scalars(f"{field}[{i}]", row)
        if width is not None and len(row) != width:
            shown = ", ".join(columns[:5]) + (", …" if len(columns) > 5 else "") if columns else ""
            raise _bad(
                f"{field}[{i}]",
                f"row has {len(row)} values, {width} expected"
                + (f" (columns {shown})" if shown else ""),
            )


def _split(value: Any, names: list[str] | None) -> pd.DataFrame:
    field = "dataframe_split"
    if not isinstance(value, dict):
        raise _bad(
            field, f'expected {{"columns": [...], "data": [[...], ...]}}, got {json_kind(value)}'
        )
    unknown = [k for k in value if k not in ("columns", "data", "index")]
    if unknown:
        raise _bad(field, f"unknown key {unknown[0]!r} (expected columns, data and index)")
    if "data" not in value:
        raise _bad(field, 'expected {"columns": [...], "data": [[...], ...]}: no data')
    columns = value.get("columns", names)
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise _bad(f"{field}.columns", "expected a list of column names (strings)")
        if len(set(columns)) != len(columns):
            twice = next(c for c in columns if columns.count(c) > 1)
            raise _bad(f"{field}.columns", f"column {twice!r} is given twice")
    width = len(columns) if columns is not None else None
    _rows(f"{field}.data", value["data"], width, columns)
    index = value.get("index")
    if index is not None:
        if not isinstance(index, list) or len(index) != len(value["data"]):
            raise _bad(f"{field}.index", "expected a list with one label per row of data")
        _scalars(f"{field}.index", index)
    return pd.DataFrame(value["data"], columns=columns, index=index)


def _record_list(field: str, records: list[Any]) -> None:
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            raise _bad(f"{field}[{i}]", f"expected an object (a record), got {json_kind(record)}")
        for k, v in record.items():
            if not isinstance(v, _SCALAR):
                raise _bad(
                    f"{field}[{i}].{k}",
                    f"expected a number, string, boolean or null, got {json_kind(v)}",
                )


def _records(field: str, value: Any) -> pd.DataFrame:
    if not isinstance(value, list):
        raise _bad(field, f"expected a list of records (objects), got {json_kind(value)}")
    if not value:
        raise _bad(field, "no records")
    _record_list(field, value)
    return pd.DataFrame.from_records(value)


def _columns(field: str, value: dict[str, Any]) -> pd.DataFrame:
    """``{"a": [1, 2], "b": [3, 4]}``: one list per column, as MLflow's ``inputs`` takes."""
    lengths = set()
    for name, column in value.items():
        if not isinstance(column, list):
            raise _bad(f"{field}.{name}", f"expected a list of values, got {json_kind(column)}")
        _scalars(f"{field}.{name}", column)
        lengths.add(len(column))
    if len(lengths) > 1:
        raise _bad(field, f"columns have different lengths {sorted(lengths)}")
    if not value or lengths == {0}:
        raise _bad(field, "no rows")
    return pd.DataFrame(value)


def _instances(field: str, value: Any, names: list[str] | None) -> pd.DataFrame | np.ndarray:
    if isinstance(value, dict):
        return _columns(field, value)
    if not isinstance(value, list):
        raise _bad(field, f"expected a list of rows or records, got {json_kind(value)}")
    if not value:
        raise _bad(field, "no rows")
    if isinstance(value[0], dict):
        _record_list(field, value)
        return pd.DataFrame.from_records(value)
    if names is not None and len(names) == 1 and all(isinstance(v, _SCALAR) for v in value):
        return pd.DataFrame({names[0]: value})  # one column: a plain list of its values
    _rows(field, value, len(names) if names is not None else None, names)
    if names is None:
        return np.asarray(value)
    return pd.DataFrame(value, columns=names)


def _tensor(field: str, value: Any, schema: Schema) -> np.ndarray:
    """A tensor model's input: nested lists of the signature's shape, its rows free."""
    if field in ("dataframe_split", "dataframe_records"):
        frame = _split(value, None) if field == "dataframe_split" else _records(field, value)
        array: np.ndarray = frame.to_numpy()
        return array
    if not isinstance(value, list):
        raise _bad(field, f"expected a list of rows, got {json_kind(value)}")
    if not value:
        raise _bad(field, "no rows")
    shape = schema.shape[1:]
    kind = np.dtype(schema.dtype).kind
    for i, row in enumerate(value):
        _nested(f"{field}[{i}]", row, shape, kind)
    return np.asarray(value)


def _leaf(value: Any, kind: str) -> str | None:
    """What is wrong with one value of a tensor of dtype kind ``kind``, if anything."""
    if kind == "b":
        return None if isinstance(value, bool) else "a boolean"
    if kind in "iuf":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "a number"
    if kind in "OUS":
        return None if isinstance(value, str) else "a string"
    return None if isinstance(value, _SCALAR) and value is not None else "a value"


def _nested(field: str, value: Any, shape: list[int], kind: str) -> None:
    if not shape:
        want = _leaf(value, kind)
        if want is not None:
            raise _bad(field, f"expected {want}, got {json_kind(value)}")
        return
    if not isinstance(value, list):
        size = shape[0] if shape[0] >= 0 else "n"
        raise _bad(field, f"expected a list of {size} values, got {json_kind(value)}")
    if shape[0] >= 0 and len(value) != shape[0]:
        raise _bad(field, f"has {len(value)} values, {shape[0]} expected")
    for j, item in enumerate(value):
        _nested(f"{field}[{j}]", item, shape[1:], kind)


def parse_csv(body: bytes, signature: Signature | None) -> pd.DataFrame:
    """A ``text/csv`` body (a header line, then rows), as ``DataFrame.to_csv()`` writes it."""
    schema = signature.inputs if signature is not None else None
    # Text columns are read as text ("007" stays "007"); the rest as pandas infers them,
    # then checked against the signature as any other input.
    dtypes = (
        {c.name: str for c in schema.columns if c.type in ("string", "category")}
        if schema is not None and schema.kind == "dataframe"
        else None
    )
    try:
        frame = pd.read_csv(io.BytesIO(body), dtype=dtypes, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _bad("body", f"not valid CSV ({message})") from None
    if frame.empty:
        raise _bad("body", "the CSV holds no rows")
    return frame
