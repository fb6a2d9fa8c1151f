"""The Open Inference Protocol (KServe V2 / Triton) tensors: request inputs in, outputs out.

Requests are JSON, or JSON followed by binary tensor data (Triton's binary data extension:
the ``Inference-Header-Content-Length`` header gives the JSON's length, an input whose
``parameters.binary_data_size`` is set takes that many bytes of what follows, in order).
Outputs are returned as JSON, or as binary data when the request asks for it
(``outputs[i].parameters.binary_data``, or ``parameters.binary_data_output`` for all), under
the names the model's metadata advertises. ``parameters.method`` chooses the prediction
method (``predict_proba`` gives one output per class, named by its label). Values are never converted with loss: 1.5 in an
INT64 tensor, a string in an FP64 one or a boolean in a shape is a 400 naming the input.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd

from modelwright.errors import InvalidInput
from modelwright.registry.signature import Schema, Signature
from modelwright.serving._json import json_kind

__all__ = [
    "DATATYPES",
    "HEADER_LENGTH",
    "InferRequest",
    "check_requested",
    "datatype_of",
    "encode_response",
    "output_names",
    "read_request",
    "tensor_metadata",
    "to_model_input",
]

HEADER_LENGTH = "inference-header-content-length"
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
# The one output of a model whose predictions are an array (or whose signature has none).
PREDICT = "predict"


def datatype_of(dtype: Any) -> str:
    return _BY_DTYPE.get(str(np.dtype(dtype)), "BYTES")


def _bad(message: str, **details: Any) -> InvalidInput:
    return InvalidInput(message, details={"field": "inputs", **details})


@dataclass
class InferRequest:
    """An infer request, read and checked: its tensors, and what it asks back."""

    id: str | None
    tensors: list[tuple[str, np.ndarray]]
    # (name, binary or None for the request's default) per requested output; None: all.
    outputs: list[tuple[str, bool | None]] | None
    binary_output: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)


def read_request(body: bytes, header_length: str | None) -> InferRequest:
    """The request in ``body``; with ``header_length`` (the header's value), its JSON part is
    that many bytes and binary tensor data follows."""
    binary = _Buffers(b"")
    if header_length is not None:
        text = header_length.strip()
        if not text.isdigit() or int(text) > len(body):
            raise _bad(
                f"Inference-Header-Content-Length: expected a length of at most the body's "
                f"{len(body)} bytes, got {text[:20]!r}",
                field="Inference-Header-Content-Length",
            )
        size = int(text)
        body, binary = body[:size], _Buffers(body[size:])
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body: not valid JSON ({exc})", details={"field": "body"}) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise _bad('body: expected {"inputs": [{"name", "shape", "datatype", "data"}, ...]}')
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput(
            f"id: expected a string, got {json_kind(request_id)}", details={"field": "id"}
        )
    parameters = payload.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidInput(
            f"parameters: expected an object, got {json_kind(parameters)}",
            details={"field": "parameters"},
        )
    binary_output = parameters.get("binary_data_output", False)
    if not isinstance(binary_output, bool):
        raise InvalidInput(
            "parameters.binary_data_output: expected true or false",
            details={"field": "parameters"},
        )
    tensors = [_tensor(item, i, binary) for i, item in enumerate(payload["inputs"])]
    if not tensors:
        raise _bad("inputs: empty")
    if binary.left():
        raise _bad(
            f"body: {binary.left()} bytes of binary data follow the JSON that no input's "
            "binary_data_size accounts for"
        )
    return InferRequest(
        id=request_id,
        tensors=tensors,
        outputs=_requested(payload.get("outputs")),
        binary_output=binary_output,
        parameters=parameters,
    )


def _requested(outputs: Any) -> list[tuple[str, bool | None]] | None:
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise InvalidInput(
            f"outputs: expected a list of {{name, parameters}}, got {json_kind(outputs)}",
            details={"field": "outputs"},
        )
    out = []
    for i, item in enumerate(outputs):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInput(
                f"outputs[{i}]: expected an object with a name (a string)",
                details={"field": "outputs"},
            )
        params = item.get("parameters", {})
        if not isinstance(params, dict):
            raise InvalidInput(
                f"outputs[{i}].parameters: expected an object", details={"field": "outputs"}
            )
        if params.get("classification"):
            raise InvalidInput(
                f"outputs[{i}].parameters.classification: not supported",
                details={"field": "outputs"},
            )
        binary = params.get("binary_data", None)
        if binary is not None and not isinstance(binary, bool):
            raise InvalidInput(
                f"outputs[{i}].parameters.binary_data: expected true or false",
                details={"field": "outputs"},
            )
        out.append((item["name"], binary))
    return out


class _Buffers:
    """The binary data after the JSON, handed out to inputs in order."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = memoryview(data), 0

    def take(self, size: int, name: str) -> bytes:
        if self.offset + size > len(self.data):
            raise _bad(
                f"input '{name}': binary_data_size is {size} bytes, only "
                f"{len(self.data) - self.offset} bytes of binary data are left",
                input=name,
            )
        chunk = bytes(self.data[self.offset : self.offset + size])
        self.offset += size
        return chunk

    def left(self) -> int:
        return len(self.data) - self.offset


def _tensor(item: Any, index: int, binary: _Buffers) -> tuple[str, np.ndarray]:
    if not isinstance(item, dict):
        raise _bad(f"inputs[{index}]: expected an object with name, shape, datatype and data")
    missing = [k for k in ("name", "shape", "datatype") if k not in item]
    params = item.get("parameters", {})
    if not isinstance(params, dict):
        raise _bad(f"inputs[{index}].parameters: expected an object", input=index)
    size = params.get("binary_data_size")
    if size is None and "data" not in item:
        missing.append("data")
    if missing:
        raise _bad(f"inputs[{index}]: missing {', '.join(missing)}", input=index)
    name, shape, datatype = item["name"], item["shape"], item["datatype"]
    if not isinstance(name, str):
        raise _bad(f"inputs[{index}].name: expected a string", input=index)
    if not isinstance(shape, list) or not all(
        type(d) is int and d >= 0
        for d in shape  # not bool: True is no dimension
    ):
        raise _bad(f"input '{name}': shape must be a list of non-negative integers", input=name)
    if not isinstance(datatype, str) or datatype not in DATATYPES:
        raise _bad(
            f"input '{name}': unknown datatype {datatype!r} (expected one of {', '.join(DATATYPES)})",
            input=name,
        )
    count = math.prod(shape)
    if size is not None:
        if type(size) is not int or size < 0:
            raise _bad(
                f"input '{name}': parameters.binary_data_size must be a non-negative integer",
                input=name,
            )
        if "data" in item:
            raise _bad(f"input '{name}': has both data and binary_data_size", input=name)
        flat = _from_bytes(binary.take(size, name), datatype, count, name)
    else:
        flat = _from_json(_flatten(item["data"], name), datatype, name)
    if flat.size != count:
        raise _bad(
            f"input '{name}': shape {shape} needs {count} values, data has {flat.size}",
            input=name,
        )
    return name, flat.reshape(shape)


def _flatten(data: Any, name: str) -> list[Any]:
    if not isinstance(data, list):
        raise _bad(f"input '{name}': data must be a list, got {json_kind(data)}", input=name)
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
    return flat


def _from_json(values: list[Any], datatype: str, name: str) -> np.ndarray:
    dtype = np.dtype(DATATYPES[datatype])
    types = set(map(type, values))
    allowed: set[type] = (
        {bool} if datatype == "BOOL" else {str} if datatype == "BYTES" else {int, float}
    )
    if not types <= allowed:
        position, value = next((i, v) for i, v in enumerate(values) if type(v) not in allowed)
        raise _bad(
            f"input '{name}': {datatype} data holds {json_kind(value)} ({_shown(value)}) at "
            f"position {position}",
            input=name,
        )
    if datatype in ("BOOL", "BYTES"):
        return np.array(values, dtype=dtype)
    try:
        source = np.array(values, dtype=np.float64 if float in types else None)
    except OverflowError:
        source = np.array(values, dtype=object)
    if dtype.kind in "iu":
        return _integers(source, dtype, datatype, name)
    with np.errstate(over="ignore"):  # an overflow is found below and named
        converted = source.astype(dtype)
    lost = np.isfinite(source.astype(np.float64)) & ~np.isfinite(converted)
    if lost.any():
        position = int(np.flatnonzero(lost)[0])
        raise _bad(
            f"input '{name}': {values[position]} at position {position} is out of {datatype}'s "
            "range",
            input=name,
        )
    return converted


def _integers(source: np.ndarray, dtype: np.dtype[Any], datatype: str, name: str) -> np.ndarray:
    info = np.iinfo(dtype)
    if source.dtype.kind == "f":
        whole = np.isfinite(source) & (source == np.round(source))
        if not whole.all():
            position = int(np.flatnonzero(~whole)[0])
            raise _bad(
                f"input '{name}': {datatype} holds whole numbers, got {source[position]} at "
                f"position {position}",
                input=name,
            )
    inside = (source >= info.min) & (source <= info.max)
    if not np.all(inside):
        position = int(np.flatnonzero(~np.asarray(inside, dtype=bool))[0])
        raise _bad(
            f"input '{name}': {source[position]} at position {position} is out of "
            f"{datatype}'s range",
            input=name,
        )
    return source.astype(dtype)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


def _from_bytes(raw: bytes, datatype: str, count: int, name: str) -> np.ndarray:
    if datatype == "BYTES":
        return _strings(raw, count, name)
    dtype = np.dtype(DATATYPES[datatype])
    if len(raw) != count * dtype.itemsize:
        raise _bad(
            f"input '{name}': binary_data_size is {len(raw)} bytes, {count} {datatype} values "
            f"take {count * dtype.itemsize}",
            input=name,
        )
    if datatype == "BOOL":
        octets = np.frombuffer(raw, dtype=np.uint8)
        if (octets > 1).any():
            raise _bad(f"input '{name}': BOOL bytes must be 0 or 1", input=name)
        return octets.astype(bool)
    # The protocol's byte order is little-endian; copied, so the array is writable.
    return np.frombuffer(raw, dtype=dtype.newbyteorder("<")).astype(dtype)


def _strings(raw: bytes, count: int, name: str) -> np.ndarray:
    """BYTES in binary: each element a 4-byte little-endian length, then that many bytes."""
    out: list[str] = []
    offset = 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise _bad(f"input '{name}': BYTES data ends inside a length prefix", input=name)
        (length,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + length > len(raw):
            raise _bad(
                f"input '{name}': BYTES element {len(out)} is {length} bytes, only "
                f"{len(raw) - offset} are left",
                input=name,
            )
        try:
            out.append(raw[offset : offset + length].decode("utf-8"))
        except UnicodeDecodeError:
            raise _bad(
                f"input '{name}': BYTES element {len(out)} is not UTF-8", input=name
            ) from None
        offset += length
        if len(out) > count:
            break
    return np.array(out, dtype=object)


def to_model_input(request: InferRequest, signature: Signature | None) -> Any:
    """The model's input: a DataFrame of the named columns, one ``[n, k]`` tensor holding the
    k columns in the signature's order, or the tensor itself for a tensor model."""
    tensors = request.tensors
    if signature is None or signature.inputs.kind != "dataframe":
        if len(tensors) != 1:
            raise _bad(f"inputs: the model takes one tensor, got {len(tensors)}")
        return tensors[0][1]
    names = [c.name for c in signature.inputs.columns]
    if len(tensors) == 1:
        name, tensor = tensors[0]
        if tensor.ndim == 2 and tensor.shape[1] == len(names) > 1 and name not in names:
            return pd.DataFrame(tensor, columns=names)
    columns: dict[str, Any] = {}
    rows: set[int] = set()
    for name, tensor in tensors:
        array = tensor[:, 0] if tensor.ndim == 2 and tensor.shape[1] == 1 else tensor
        if array.ndim != 1:
            raise _bad(
                f"input '{name}': a column takes shape [n] or [n, 1]; a whole table is one "
                f"tensor of shape [n, {len(names)}] (got {list(array.shape)})",
                input=name,
            )
        if name in columns:
            raise _bad(f"input '{name}': given twice", input=name)
        columns[name] = array
        rows.add(len(array))
    if len(rows) > 1:
        raise _bad(f"inputs: columns have different lengths {sorted(rows)}")
    return pd.DataFrame(columns)


def _output_schema(signature: Signature | None, method: str) -> Schema | None:
    """What ``method`` returns, as the signature records it (None: not recorded)."""
    if signature is None:
        return None
    return signature.methods.get(method) or (signature.outputs if method == "predict" else None)


def output_names(signature: Signature | None, method: str = "predict") -> list[str] | None:
    """The outputs ``method`` gives, as the metadata advertises them (None: not known before
    predicting). A method giving one column per class has one output per class label."""
    schema = _output_schema(signature, method)
    if schema is None:
        return None
    if schema.kind == "dataframe":
        return [c.name for c in schema.columns]
    return [PREDICT]


def check_requested(request: InferRequest, names: list[str]) -> None:
    for i, (name, _) in enumerate(request.outputs or []):
        if name not in names:
            raise InvalidInput(
                f"outputs[{i}]: unknown output {name!r} (this model has: {', '.join(names)})",
                details={"field": "outputs", "output": name},
            )


def encode_response(
    predictions: Any, request: InferRequest, head: dict[str, Any]
) -> tuple[bytes, int | None]:
    """(the response body, the length of its JSON part when binary data follows it)."""
    if isinstance(predictions, pd.DataFrame):
        arrays = {str(c): predictions[c].to_numpy() for c in predictions.columns}
    else:
        if isinstance(predictions, pd.Series):
            predictions = predictions.to_numpy()
        arrays = {PREDICT: np.asarray(predictions)}
    wanted: list[tuple[str, bool | None]] = request.outputs or [(name, None) for name in arrays]
    check_requested(request, list(arrays))
    outputs, chunks = [], []
    for name, binary in wanted:  # binary None: the request's default
        entry, chunk = _output(
            name, arrays[name], request.binary_output if binary is None else binary
        )
        outputs.append(entry)
        if chunk is not None:
            chunks.append(chunk)
    document = orjson.dumps({**head, "outputs": outputs}, option=orjson.OPT_SERIALIZE_NUMPY)
    if not chunks:
        return document, None
    return document + b"".join(chunks), len(document)


def _output(name: str, array: np.ndarray, binary: bool) -> tuple[dict[str, Any], bytes | None]:
    datatype = datatype_of(array.dtype)
    entry: dict[str, Any] = {"name": name, "shape": list(array.shape), "datatype": datatype}
    flat = array.reshape(-1)
    if not binary:
        entry["data"] = [str(v) for v in flat] if datatype == "BYTES" else flat.tolist()
        return entry, None
    if datatype == "BYTES":
        parts = [str(v).encode() for v in flat]
        raw = b"".join(struct.pack("<I", len(p)) + p for p in parts)
    else:
        raw = np.ascontiguousarray(flat, dtype=flat.dtype.newbyteorder("<")).tobytes()
    entry["parameters"] = {"binary_data_size": len(raw)}
    return entry, raw


def tensor_metadata(
    signature: Signature | None, method: str = "predict"
) -> dict[str, list[dict[str, Any]]]:
    """The ``inputs``/``outputs`` of a model metadata response, from the signature: the
    outputs of ``method``, the one the deployment answers."""
    out: dict[str, list[dict[str, Any]]] = {"inputs": [], "outputs": []}
    if signature is None:
        return out
    outputs = _output_schema(signature, method)
    for key, schema in (("inputs", signature.inputs), ("outputs", outputs)):
        if schema is None:
            continue
        if schema.kind == "dataframe":
            out[key] = [
                {"name": c.name, "datatype": _COLUMN_DATATYPE[c.type], "shape": [-1]}
                for c in schema.columns
            ]
        else:
            name = "input" if key == "inputs" else PREDICT
            out[key] = [
                {"name": name, "datatype": datatype_of(schema.dtype), "shape": schema.shape}
            ]
    return out
