"""Input and output schemas inferred from an example, and inputs validated against them.

A *dataframe* schema lists columns and their types; a *tensor* schema gives an array's dtype
and shape, its first dimension (the rows) free. Validation names the column and the problem:
missing, wrong type, extra, or wrong shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from modelwright.errors import InvalidInput

if TYPE_CHECKING:  # pandas and numpy load on first use: `import modelwright` stays light
    import numpy as np
    import pandas as pd

__all__ = [
    "EXAMPLE_ROWS",
    "METHODS",
    "ColumnSpec",
    "Schema",
    "Signature",
    "example_payload",
    "infer_schema",
    "infer_signature",
    "validate_input",
]

# The rows of an input example kept with the model: an example, not a dataset (the manifest
# is read on every load).
EXAMPLE_ROWS = 100

# The prediction methods a model may offer, ``predict`` first: serving, batch and
# ``LoadedModel`` answer any of those the model has.
METHODS = ("predict", "predict_proba", "decision_function")

# Column types as users think of them; numpy/pandas dtypes map onto these.
ColumnType = Literal["integer", "float", "boolean", "string", "datetime", "category", "object"]


class ColumnSpec(BaseModel):
    name: str
    type: ColumnType
    dtype: str = Field(description="The example's exact dtype, for information.")


class Schema(BaseModel):
    kind: Literal["dataframe", "tensor"]
    columns: list[ColumnSpec] = Field(default_factory=list)
    dtype: str = ""
    shape: list[int] = Field(default_factory=list, description="-1 for a free dimension.")


class Signature(BaseModel):
    inputs: Schema
    outputs: Schema | None = Field(default=None, description="What ``predict`` returns.")
    methods: dict[str, Schema] = Field(
        default_factory=dict,
        description="What each prediction method of the model returns (``predict`` too); "
        "empty for a model logged before methods were recorded.",
    )

    @field_validator("methods")
    @classmethod
    def _in_order(cls, methods: dict[str, Schema]) -> dict[str, Schema]:
        # Stored with sorted keys; shown in METHODS order (predict first), others after.
        rank = {m: i for i, m in enumerate(METHODS)}
        return dict(sorted(methods.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def _column_type(dtype: Any) -> ColumnType:
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    checks: tuple[tuple[Any, ColumnType], ...] = (
        (pd.api.types.is_bool_dtype, "boolean"),
        (pd.api.types.is_integer_dtype, "integer"),
        (pd.api.types.is_float_dtype, "float"),
        (pd.api.types.is_datetime64_any_dtype, "datetime"),
        (pd.api.types.is_string_dtype, "string"),
    )
    for check, kind in checks:
        if check(dtype):
            return kind
    return "object"


def infer_schema(example: Any) -> Schema:
    import numpy as np
    import pandas as pd

    if isinstance(example, pd.Series):
        example = example.to_frame()
    if isinstance(example, pd.DataFrame):
        return Schema(
            kind="dataframe",
            columns=[
                ColumnSpec(name=str(c), type=_column_type(t), dtype=str(t))
                for c, t in example.dtypes.items()
            ],
        )
    if isinstance(example, list | tuple):
        example = np.asarray(example)
    if isinstance(example, np.ndarray):
        return Schema(kind="tensor", dtype=str(example.dtype), shape=[-1, *example.shape[1:]])
    raise InvalidInput(
        f"input_example: expected a pandas DataFrame or a numpy array, got {type(example).__name__}",
        details={"field": "input_example"},
    )


def infer_signature(
    input_example: Any, output: Any = None, methods: dict[str, Any] | None = None
) -> Signature:
    """``methods``: each prediction method's output on the example, by method name."""
    return Signature(
        inputs=infer_schema(input_example),
        outputs=None if output is None else infer_schema(output),
        methods={name: infer_schema(out) for name, out in (methods or {}).items()},
    )


# What an input column may be for a given schema type: safe conversions only.
_ACCEPTS: dict[str, tuple[str, ...]] = {
    "integer": ("integer",),
    "float": ("float", "integer"),
    "boolean": ("boolean",),
    "string": ("string", "category"),
    "category": ("category", "string"),
    "datetime": ("datetime",),
    "object": ("object", "string", "integer", "float", "boolean", "category", "datetime"),
}


def example_payload(example: Any, rows: int | None = EXAMPLE_ROWS) -> dict[str, Any]:
    """The first ``rows`` rows (None: all) of an input example as a scoring payload
    (``dataframe_split`` for a table, ``inputs`` for an array), as ``/invocations`` takes it:
    JSON values only, floats exact."""
    import numpy as np
    import orjson
    import pandas as pd

    def plain(value: Any) -> Any:
        if isinstance(value, pd.Timestamp | np.datetime64):
            return str(pd.Timestamp(value).isoformat())
        raise TypeError(f"{type(value).__name__} is not JSON")

    if isinstance(example, pd.Series):
        example = example.to_frame()
    if isinstance(example, pd.DataFrame):
        head = example if rows is None else example.head(rows)
        payload: dict[str, Any] = {
            "dataframe_split": {
                "columns": [str(c) for c in head.columns],
                "data": head.astype(object).where(head.notna(), None).to_numpy().tolist(),
            }
        }
    else:
        payload = {"inputs": np.asarray(example)[:rows].tolist()}
    # Through JSON and back: what is kept is exactly what a caller could send.
    loaded: dict[str, Any] = orjson.loads(
        orjson.dumps(payload, default=plain, option=orjson.OPT_SERIALIZE_NUMPY)
    )
    return loaded


def validate_input(schema: Schema, data: Any) -> Any:
    """``data`` checked against ``schema`` (columns in schema order); else ``InvalidInput``."""
    if schema.kind == "dataframe":
        return _validate_frame(schema, data)
    return _validate_tensor(schema, data)


def _validate_frame(schema: Schema, data: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise InvalidInput(
            f"input: expected a table with columns {', '.join(c.name for c in schema.columns)}, "
            f"got {type(data).__name__}",
            details={"field": "input"},
        )
    names = [str(c) for c in data.columns]
    missing = [c.name for c in schema.columns if c.name not in names]
    if missing:
        raise InvalidInput(
            f"input: missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)}",
            details={"field": "input", "columns": missing, "problem": "missing"},
        )
    expected = {c.name for c in schema.columns}
    extra = [n for n in names if n not in expected]
    if extra:
        raise InvalidInput(
            f"input: unexpected column{'s' if len(extra) > 1 else ''} {', '.join(repr(e) for e in extra)} "
            "(not in the model's signature)",
            details={"field": "input", "columns": extra, "problem": "extra"},
        )
    frame = data.copy(deep=False)
    frame.columns = names
    for col in schema.columns:
        got = _column_type(frame[col.name].dtype)
        if col.type == "integer" and got == "float" and _integral(frame[col.name]):
            # JSON bodies carry 2 as 2.0 once a row mixes types; whole numbers are fine.
            frame[col.name] = frame[col.name].astype(col.dtype)
            continue
        if got not in _ACCEPTS[col.type]:
            raise InvalidInput(
                f"input: column '{col.name}' has type {got} ({frame[col.name].dtype}), "
                f"the model expects {col.type} ({col.dtype})",
                details={"field": "input", "column": col.name, "problem": "type"},
            )
        if col.type == "float" and got == "integer":
            frame[col.name] = frame[col.name].astype(
                col.dtype if "float" in col.dtype else "float64"
            )
    return frame[[c.name for c in schema.columns]]


def _integral(values: pd.Series) -> bool:
    import numpy as np

    array = values.to_numpy(dtype="float64")
    return bool(np.isfinite(array).all() and (array == np.round(array)).all())


def _validate_tensor(schema: Schema, data: Any) -> np.ndarray[Any, Any]:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    array = np.asarray(data)
    want = np.dtype(schema.dtype)
    if array.dtype != want:
        if not np.can_cast(array.dtype, want, casting="same_kind"):
            raise InvalidInput(
                f"input: array has dtype {array.dtype}, the model expects {want}",
                details={"field": "input", "problem": "type"},
            )
        array = array.astype(want)
    shape = list(array.shape)
    if len(shape) != len(schema.shape) or any(
        w not in (-1, g) for g, w in zip(shape, schema.shape, strict=False)
    ):
        fmt = ", ".join("n" if d == -1 else str(d) for d in schema.shape)
        raise InvalidInput(
            f"input: array has shape {tuple(shape)}, the model expects ({fmt})",
            details={"field": "input", "problem": "shape"},
        )
    return array
