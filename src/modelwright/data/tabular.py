"""Tabular formats: which files are tables, reading them, and DataFrames to Parquet.

Reading is pyarrow's (multi-threaded CSV and JSON-lines readers, Parquet); pandas only
enters where a DataFrame is asked for.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwright.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "FRAME_ROW_GROUP",
    "TABULAR",
    "check_arrow_schema",
    "csv_options",
    "dataframe_to_parquet",
    "file_suffix",
    "format_of",
    "format_of_files",
    "load_frame",
    "read_table",
    "unreadable",
    "write_frame",
]

TABULAR = frozenset({"parquet", "csv", "tsv", "json"})
_EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}
_SUFFIX = {"parquet": ".parquet", "csv": ".csv", "tsv": ".tsv", "json": ".jsonl", "binary": ""}
# Rows of a DataFrame per Parquet row group: pyarrow's default for a whole table, so that the
# bytes (and digests) of frames do not depend on how they are written.
FRAME_ROW_GROUP = 1024 * 1024
_NAMES = {"parquet": "Parquet", "csv": "CSV", "tsv": "TSV", "json": "JSON lines"}


def format_of(name: str) -> str:
    """The format a file name suggests: a tabular format, its extension, or ``binary``."""
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    ext = suffix[1:]
    if 0 < len(ext) <= 16 and ext.isascii() and ext.isalnum():
        return ext
    return "binary"


def format_of_files(names: Iterable[str]) -> str:
    """One format shared by every file of a directory, or ``mixed``."""
    formats = {format_of(n) for n in names}
    return formats.pop() if len(formats) == 1 else "mixed"


def file_suffix(fmt: str) -> str:
    return _SUFFIX.get(fmt, f".{fmt}" if fmt != "mixed" else "")


def read_table(source: str | Any, fmt: str, what: str = "the data") -> pa.Table:
    """Read a path or binary file object of a tabular format; ``InvalidInput`` if it is not."""
    import pyarrow as pa  # lazily: keeps `import modelwright` light

    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            # One file, so not read_table's dataset layer, which resolves a filesystem for
            # each path (measured on 100 small files: 1.3 ms a file against 1.1 ms).
            return pq.ParquetFile(source).read()
        if fmt in ("csv", "tsv"):
            from pyarrow import csv

            return csv.read_csv(source, **csv_options(fmt))
        if fmt == "json":
            from pyarrow import json

            return json.read_json(source)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise unreadable(exc, fmt, what) from None
    raise InvalidInput(f"format: '{fmt}' is not a tabular format", details={"field": "format"})


def unreadable(exc: Exception, fmt: str, what: str, where: str = "") -> InvalidInput:
    """The error for data that is not of its format; ``where`` tells where in it, if known."""
    message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return InvalidInput(
        f"format: {what} cannot be read as {_NAMES[fmt]} ({message}{where}); "
        "pass format='binary' to store it without a schema",
        details={"field": "format", "format": fmt},
    )


def csv_options(fmt: str, column_types: dict[str, pa.DataType] | None = None) -> dict[str, Any]:
    """How CSV and TSV files are parsed, read whole or a block at a time."""
    from pyarrow import csv

    return {
        "parse_options": csv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
        # Empty fields are missing values, as pandas reads them, not empty strings.
        "convert_options": csv.ConvertOptions(
            strings_can_be_null=True, column_types=column_types or {}
        ),
    }


def _unsupported(t: pa.DataType) -> bool:
    import pyarrow as pa  # lazily: keeps `import modelwright` light

    if pa.types.is_dictionary(t):
        return _unsupported(t.value_type)
    return not (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_boolean(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_duration(t)
        or pa.types.is_null(t)
    )


_SUPPORTED = "supported are numbers, booleans, strings, categories, dates, timestamps and durations"


def check_arrow_schema(schema: pa.Schema) -> None:
    names = [f.name for f in schema]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInput(
            f"source: column names must be unique (repeated: {', '.join(map(repr, dupes))})",
            details={"field": "source", "columns": dupes},
        )
    for f in schema:
        if _unsupported(f.type):
            raise InvalidInput(
                f"source: column '{f.name}' has unsupported type {f.type}; {_SUPPORTED}",
                details={"field": "source", "column": f.name, "type": str(f.type)},
            )


def dataframe_to_parquet(df: pd.DataFrame) -> bytes:
    """Parquet bytes of ``df`` (see ``write_frame``)."""
    buf = io.BytesIO()
    write_frame(df, buf)
    return buf.getvalue()


def write_frame(
    df: pd.DataFrame,
    dest: str | Any,
    *,
    row_group: int = FRAME_ROW_GROUP,
    on_rows: Callable[[int], None] | None = None,
) -> None:
    """Write ``df`` as Parquet to a path or binary file, or raise ``InvalidInput`` naming
    the first column of a type a dataset cannot hold. The same frame gives the same bytes.

    An unnamed ``RangeIndex`` (row numbers) is not stored; any other index is, as columns
    (a named one under its name), so every reader of the Parquet sees it, not only pandas.

    Converted and written ``row_group`` rows at a time, each slice one row group: a large
    frame is never copied whole into Arrow. The bytes are those of one ``write_table`` of
    the whole frame: the same row groups, and the whole frame's schema and pandas metadata
    (a slice's would name its own index range)."""
    import pandas as pd
    import pyarrow as pa  # lazily: keeps `import modelwright` light
    import pyarrow.parquet as pq

    _check_frame(df)
    row_numbers = isinstance(df.index, pd.RangeIndex) and df.index.name is None
    try:
        schema = pa.Schema.from_pandas(df, preserve_index=not row_numbers)
        check_arrow_schema(schema)
        with pq.ParquetWriter(dest, schema) as writer:
            # An empty frame still gets its one (empty) row group, as write_table gives it.
            for start in range(0, max(len(df), 1), row_group):
                part = pa.Table.from_pandas(
                    df.iloc[start : start + row_group],
                    schema=schema,
                    preserve_index=not row_numbers,
                )
                writer.write_table(part.replace_schema_metadata(schema.metadata), row_group)
                if on_rows is not None:
                    on_rows(part.num_rows)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"source: the DataFrame cannot be stored as Parquet ({exc}); {_SUPPORTED}",
            details={"field": "source"},
        ) from None


def _check_frame(df: pd.DataFrame) -> None:
    import pandas as pd

    columns = [str(c) for c in df.columns]
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise InvalidInput(
            f"source: column names must be unique (repeated: {', '.join(map(repr, dupes))})",
            details={"field": "source", "columns": dupes},
        )
    for label in df.columns:
        column = df[label]
        inferred = pd.api.types.infer_dtype(column, skipna=True)
        if inferred in ("mixed", "mixed-integer", "complex", "bytes"):
            raise InvalidInput(
                f"source: column '{label}' has unsupported type {column.dtype} (values are "
                f"{inferred}); {_SUPPORTED}",
                details={"field": "source", "column": str(label), "type": str(column.dtype)},
            )


def load_frame(path: Path, kind: str, fmt: str) -> pd.DataFrame:
    """A DataFrame of a downloaded version: one file, or a directory of one tabular format."""
    import pyarrow as pa  # lazily: keeps `import modelwright` light

    if kind != "directory":
        return read_table(str(path), fmt).to_pandas()
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if fmt not in TABULAR or any(format_of(p.name) != fmt for p in files):
        raise InvalidInput(
            f"as_: directory version of format '{fmt}' is not one table; load it as a path",
            details={"field": "as_"},
        )
    tables = [read_table(str(p), fmt, f"file '{p.relative_to(path)}'") for p in files]
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(
            f"as_: the files of the directory do not share one schema ({exc}); load it as a path",
            details={"field": "as_"},
        ) from None
    return table.to_pandas()
