"""The two sides of a comparison, read one column at a time.

A pandas DataFrame or a pyarrow Table is already in memory; a path (file or directory of
Parquet) or a ``pyarrow.dataset.Dataset`` is read column by column, so the peak memory of a
drift check is one column of each side, not the two frames.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelwright.monitoring._counts import Labels
from modelwright.monitoring.errors import DriftInputError

__all__ = ["Source", "open_source", "values_of"]

# pandas writes its index into Parquet under these names; they are not data columns.
_INDEX_PREFIX = "__index_level_"


@dataclass
class Source:
    side: str
    columns: list[str]
    num_rows: int
    _frame: pd.DataFrame | None = None
    _table: Any = None
    _dataset: Any = None

    def series(self, column: str) -> pd.Series:
        if self._frame is not None:
            return self._frame[column]
        if self._table is not None:
            return self._table.column(column).to_pandas()
        table = self._dataset.to_table(columns=[column])
        return table.column(0).to_pandas()


def open_source(data: Any, side: str) -> Source:
    if isinstance(data, pd.DataFrame):
        if not all(isinstance(c, str) for c in data.columns):
            data = data.rename(columns=str)
        return Source(side, list(data.columns), len(data), _frame=data)
    import pyarrow as pa
    import pyarrow.dataset as pads

    if isinstance(data, pa.Table):
        return Source(side, list(data.column_names), data.num_rows, _table=data)
    if isinstance(data, str | os.PathLike):
        if not os.path.exists(data):
            raise DriftInputError(f"the {side} data path {os.fspath(data)!r} does not exist")
        data = pads.dataset(os.fspath(data), format="parquet")
    if isinstance(data, pads.Dataset):
        names = [n for n in data.schema.names if not n.startswith(_INDEX_PREFIX)]
        return Source(side, names, data.count_rows(), _dataset=data)
    raise DriftInputError(
        f"the {side} data is a {type(data).__name__}; expected a pandas DataFrame, a pyarrow "
        "Table or Dataset, or the path of Parquet data"
    )


def values_of(series: pd.Series) -> np.ndarray[Any, Any]:
    """The column's values without NaN/None/NA and ±inf (Evidently drops both before testing)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return np.asarray(series.to_numpy())  # cannot hold NaN
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = np.asarray(series.to_numpy())
        keep = np.isfinite(values)
        return values if keep.all() else values[keep]
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        # Nullable extension numbers (Int64, Float64): NA becomes NaN, then as above.
        values = np.asarray(series.to_numpy(dtype="float64", na_value=np.nan))
        finite: np.ndarray[Any, Any] = values[np.isfinite(values)]
        return finite
    # Strings and categories: factorise (cheap for Arrow strings and categoricals, one hash
    # pass for objects) and expand the distinct values, instead of boxing every row anew.
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if dtype.name == "object" and distinct.size:
        # Objects may hold float infinities (Evidently drops them too); strings cannot.
        finite = ~((distinct == np.inf) | (distinct == -np.inf))
        if not finite.all():
            remap = np.where(finite, np.arange(distinct.size), -1)
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return Labels.of(codes[codes >= 0], distinct)
