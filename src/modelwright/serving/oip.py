"""The Open Inference Protocol (KServe V2) tensors: request inputs in, response outputs out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from modelwright.errors import InvalidInput
from modelwright.registry.signature import Signature

__all__ = ["DATATYPES", "datatype_of", "decode_inputs", "encode_outputs", "tensor_metadata"]

DATATYPES: dict[str, str] = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "UINT16": "uint16",
    "UINT32": "uint32",
    "UINT64": "uint64",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
    "BYTES": "object",
}
_BY_DTYPE = {v: k for k, v in DATATYPES.items()}
_COLUMN_DATATYPE = {
    "integer": "INT64",
    "float": "FP64",
    "boolean": "BOOL",
    "string": "BYTES",
    "category": "BYTES",
    "datetime": "BYTES",
    "object": "BYTES",
}


def datatype_of(dtype: Any) -> str:
    return _BY_DTYPE.get(str(np.dtype(dtype)), "BYTES")


def _bad(message: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, details={"field": "inputs", **details})


def _tensor(item: Any, index: int) -> tuple[str, np.ndarray[Any, Any]]:
    if not isinstance(item, dict):
        raise _bad(f"inputs[{index}]: expected an object with name, shape, datatype and data")
    missing = [k for k in ("name", "shape", "datatype", "data") if k not in item]
    if missing:
        raise _bad(f"inputs[{index}]: missing {', '.join(missing)}", input=index)
    name, shape, datatype = item["name"], item["shape"], item["datatype"]
    if not isinstance(name, str):
        raise _bad(f"inputs[{index}].name: expected a string", input=index)
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise _bad(f"input '{name}': shape must be a list of non-negative integers", input=name)
    if datatype not in DATATYPES:
        raise _bad(
            f"input '{name}': unknown datatype {datatype!r} (expected one of {', '.join(DATATYPES)})",
            input=name,
        )
    try:
        flat = np.asarray(item["data"], dtype=DATATYPES[datatype]).reshape(-1)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad(f"input '{name}': data is not {datatype} ({exc})", input=name) from None
    expected = math.prod(shape)
    if flat.size != expected:
        raise _bad(
            f"input '{name}': shape {shape} needs {expected} values, data has {flat.size}",
            input=name,
        )
    return name, flat.reshape(shape)


def decode_inputs(payload: Any, signature: Signature | None) -> Any:
    """An inference request's ``inputs`` → a DataFrame (one input per column) or one array."""
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise _bad('body: expected {"inputs": [{"name", "shape", "datatype", "data"}, ...]}')
    tensors = [_tensor(item, i) for i, item in enumerate(payload["inputs"])]
    if not tensors:
        raise _bad("inputs: empty")
    tabular = signature is not None and signature.inputs.kind == "dataframe"
    if not tabular:
        if len(tensors) != 1:
            raise _bad(f"inputs: the model takes one tensor, got {len(tensors)}")
        return tensors[0][1]
    columns: dict[str, Any] = {}
    rows: set[int] = set()
    for name, tensor in tensors:
        array = tensor[:, 0] if tensor.ndim == 2 and tensor.shape[1] == 1 else tensor
        if array.ndim != 1:
            raise _bad(
                f"input '{name}': a column takes shape [n] or [n, 1], got {list(array.shape)}",
                input=name,
            )
        if name in columns:
            raise _bad(f"input '{name}': given twice", input=name)
        columns[name] = array
        rows.add(len(array))
    if len(rows) > 1:
        raise _bad(f"inputs: columns have different lengths {sorted(rows)}")
    return pd.DataFrame(columns)


def encode_outputs(predictions: Any) -> list[dict[str, Any]]:
    """Predictions → output tensors: one per column of a DataFrame, else one ``predict``."""
    if isinstance(predictions, pd.DataFrame):
        return [_output(str(c), predictions[c].to_numpy()) for c in predictions.columns]
    if isinstance(predictions, pd.Series):
        predictions = predictions.to_numpy()
    return [_output("predict", np.asarray(predictions))]


def _output(name: str, array: np.ndarray[Any, Any]) -> dict[str, Any]:
    datatype = datatype_of(array.dtype)
    data = array.reshape(-1)
    values = [str(v) for v in data] if datatype == "BYTES" else data.tolist()
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": values}


def tensor_metadata(signature: Signature | None) -> dict[str, list[dict[str, Any]]]:
    """The ``inputs``/``outputs`` of a model metadata response, from the signature."""
    out: dict[str, list[dict[str, Any]]] = {"inputs": [], "outputs": []}
    if signature is None:
        return out
    for key, schema in (("inputs", signature.inputs), ("outputs", signature.outputs)):
        if schema is None:
            continue
        if schema.kind == "dataframe":
            out[key] = [
                {"name": c.name, "datatype": _COLUMN_DATATYPE[c.type], "shape": [-1]}
                for c in schema.columns
            ]
        else:
            out[key] = [
                {"name": key[:-1], "datatype": datatype_of(schema.dtype), "shape": schema.shape}
            ]
    return out
