"""The fast path for the commonest request: rows of an all-numeric table.

Building a DataFrame per request and checking it column by column costs milliseconds, several
times what a small model takes to predict. When the signature is a table whose columns are
all numbers and the body is plain (the signature's columns, in order, holding only JSON
numbers, finite, whole where the column is an integer), the rows go straight into one
float64 array: already valid by construction, cheap to stack into a micro-batch, turned into
a DataFrame once per predict call. Anything else returns None and takes the general path,
which names the problem precisely — so the fast path never changes what a caller is told.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelwright.registry.predict import LoadedModel
from modelwright.registry.signature import Signature

__all__ = ["NumericRows", "NumericTable"]

_NUMBER = (int, float)


class NumericRows:
    """Validated rows of an all-numeric table, in the signature's column order."""

    __slots__ = ("values",)

    def __init__(self, values: np.ndarray) -> None:
        self.values = values

    def __len__(self) -> int:
        return int(self.values.shape[0])


class NumericTable:
    """Parses the plain bodies of one all-numeric signature (see the module's docstring)."""

    def __init__(self, names: list[str], dtypes: list[str], integer: list[int]) -> None:
        self.names = names
        self.integer = np.asarray(integer, dtype=np.intp)
        # Columns whose dtype is not float64 are cast once per predict call.
        self.casts = [(n, d) for n, d in zip(names, dtypes, strict=True) if d != "float64"]

    @classmethod
    def of(cls, signature: Signature | None) -> NumericTable | None:
        if signature is None or signature.inputs.kind != "dataframe":
            return None
        columns = signature.inputs.columns
        if not columns or any(c.type not in ("float", "integer") for c in columns):
            return None
        return cls(
            [c.name for c in columns],
            [c.dtype for c in columns],
            [i for i, c in enumerate(columns) if c.type == "integer"],
        )

    def parse(self, payload: Any) -> NumericRows | None:
        rows = self._rows(payload)
        if rows is None or not rows:
            return None
        width = len(self.names)
        for row in rows:
            # Exact type checks: numpy would quietly turn "1.5" or True into numbers.
            if type(row) is not list or len(row) != width:
                return None
            for v in row:
                if type(v) not in _NUMBER:
                    return None
        values = np.array(rows, dtype=np.float64)
        if not np.isfinite(values).all():
            return None
        if self.integer.size:
            ints = values[:, self.integer]
            if not (ints == np.round(ints)).all():
                return None
        return NumericRows(values)

    def _rows(self, payload: Any) -> list[Any] | None:
        if type(payload) is not dict or len(payload) != 1:
            return None
        ((key, value),) = payload.items()
        if key == "dataframe_split":
            return self._split(value)
        if type(value) is not list or not value:
            return None
        if key == "dataframe_records" or (
            key in ("instances", "inputs") and type(value[0]) is dict
        ):
            return self._records(value)
        return value if key in ("instances", "inputs") else None

    def _split(self, value: Any) -> list[Any] | None:
        if type(value) is not dict or value.get("columns") != self.names or len(value) != 2:
            return None
        data = value.get("data")
        return data if type(data) is list else None

    def _records(self, records: list[Any]) -> list[Any] | None:
        names = self.names
        rows = []
        for record in records:
            if type(record) is not dict or len(record) != len(names):
                return None
            try:
                rows.append([record[n] for n in names])
            except KeyError:
                return None
        return rows

    def takes_arrays(self, model: LoadedModel) -> bool:
        """Whether the model may be given the array itself instead of a DataFrame.

        A scikit-learn estimator fitted on a DataFrame checks the column names and then
        predicts on the underlying float array; when its names are the signature's, in order,
        and every column is float64, the array is the same input without the several
        milliseconds that DataFrame handling costs per call.
        """
        names = getattr(model.raw, "feature_names_in_", None)
        if model.manifest.flavor != "sklearn" or self.casts or names is None:
            return False
        return [str(n) for n in names] == self.names

    def frame(self, values: np.ndarray) -> pd.DataFrame:
        frame = pd.DataFrame(values, columns=self.names, copy=False)
        for name, dtype in self.casts:
            frame[name] = frame[name].astype(dtype)
        return frame
