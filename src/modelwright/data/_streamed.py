"""Describing a large table without holding it whole: a block or a column at a time.

A CSV or TSV file is parsed a block at a time (pyarrow's streaming reader) into a temporary
Parquet file, one row group per block; a Parquet file is read as it is. The profile then
reads one column at a time, a batch at a time. What is in memory at once is the blocks in
flight while parsing (pyarrow's reader reads up to 32 ahead), then for a table of up to
``EXACT_ROWS`` rows one column and its statistics' working copies (exact quantiles need
every value), for a larger one a batch and the fixed-size sketches of ``_sketched``; never
the whole table (a 537 MB CSV used to peak at 1.78 GB).

The streaming reader infers the column types from the first block and holds later blocks to
them. A later block that does not fit (a whole number column that turns decimal, text in a
column of numbers, values in a column empty so far) widens the column to the type a read of
the whole file gives it (inferred from that column alone, read whole) and the file is
parsed again: the schema and profile are those of reading the file at once.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyarrow import csv

from modelwright.data.models import ColumnSchema, DatasetProfile
from modelwright.data.profile import profile_columns, profile_table, schema_of
from modelwright.data.tabular import csv_options, read_table, unreadable

__all__ = ["BLOCK_SIZE", "Description", "Spilled", "csv_to_parquet", "describe_file"]

Description = tuple[list[ColumnSchema] | None, DatasetProfile | None]

# Bytes of CSV parsed at once (pyarrow's default). The streaming reader keeps a few dozen
# blocks in flight: measured on a 546 MiB file, 16 MiB blocks held 535 MiB at once, 1 MiB
# blocks 40 MiB (and took the time 2 MiB blocks took).
BLOCK_SIZE = 1 << 20
# Rows of a column read from Parquet at a time: reading a column whole decodes it into a
# second copy before it is joined (211 MiB held for a 116 MiB column; this way, 117 MiB).
_BATCH_ROWS = 1 << 16
_CONVERSION = re.compile(r"In CSV column #(\d+): CSV conversion error")


@dataclass(frozen=True)
class Spilled:
    """A CSV file rewritten as Parquet: its schema as parsed, rows, and row groups."""

    path: Path
    schema: pa.Schema
    rows: int
    row_groups: int


def describe_file(
    source: str, fmt: str, what: str, *, block_size: int | None = None
) -> Description:
    """Schema and profile of one file of a tabular format, read a block or a column at a time
    where the format allows (Parquet, CSV, TSV); JSON lines are read whole. ``block_size``:
    bytes of CSV parsed at once (``BLOCK_SIZE``)."""
    if fmt == "parquet":
        return _describe_parquet(source, fmt, what)
    if fmt in ("csv", "tsv"):
        with tempfile.TemporaryDirectory(prefix="mw-describe-") as tmp:
            spilled = csv_to_parquet(
                source,
                Path(tmp) / "table.parquet",
                fmt,
                what=what,
                block_size=block_size or BLOCK_SIZE,
            )
            return _describe_parquet(str(spilled.path), fmt, what, spilled.schema)
    table = read_table(source, fmt, what)
    return schema_of(table.schema), profile_table(table)


def csv_to_parquet(
    source: str, dest: Path, fmt: str, *, what: str = "the data", block_size: int = BLOCK_SIZE
) -> Spilled:
    """Parse a CSV or TSV file a block at a time into a Parquet file at ``dest``."""
    fixed: dict[str, pa.DataType] = {}
    while True:
        try:
            return _convert(source, dest, fmt=fmt, what=what, block_size=block_size, fixed=fixed)
        except _Widen as w:
            if w.name in fixed:  # widened once already: the whole-file type cannot hold it
                raise unreadable(w.error, fmt, what, f"; column '{w.name}'") from None
            fixed[w.name] = _whole_file_type(source, fmt, what, w.name)


class _Widen(Exception):
    """A block holds a value of column ``name`` that the first block's type cannot."""

    def __init__(self, name: str, error: Exception) -> None:
        super().__init__(name)
        self.name, self.error = name, error


def _convert(
    source: str,
    dest: Path,
    *,
    fmt: str,
    what: str,
    block_size: int,
    fixed: dict[str, pa.DataType],
) -> Spilled:
    options = csv_options(fmt, fixed)
    try:
        reader = csv.open_csv(
            source, read_options=csv.ReadOptions(block_size=block_size), **options
        )
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _refined(exc, reader=None, fmt=fmt, what=what, rows=0) from None
    rows = 0
    with reader, pq.ParquetWriter(dest, reader.schema) as writer:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise _refined(exc, reader=reader, fmt=fmt, what=what, rows=rows) from None
            writer.write_batch(batch)
            rows += batch.num_rows
    return Spilled(dest, reader.schema, rows, pq.read_metadata(dest).num_row_groups)


def _refined(
    exc: Exception,
    *,
    reader: csv.CSVStreamingReader | None,
    fmt: str,
    what: str,
    rows: int,
) -> Exception:
    """A type that a later block does not fit is widened (``_Widen``); anything else is
    unreadable data, said with where it was met."""
    match = _CONVERSION.search(str(exc))
    if match is not None:
        names = reader.schema.names if reader is not None else []
        index = int(match.group(1))
        if index < len(names):
            return _Widen(names[index], exc)
    where = f"; in the rows after row {rows:,}" if rows else ""
    return unreadable(exc, fmt, what, where)


def _whole_file_type(source: str, fmt: str, what: str, name: str) -> pa.DataType:
    """The type a read of the whole file infers for one column: that column alone, read."""
    options = csv_options(fmt)
    options["convert_options"].include_columns = [name]
    try:
        table = csv.read_csv(source, **options)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise unreadable(exc, fmt, what, f"; column '{name}'") from None
    return table.schema.field(0).type


def _describe_parquet(
    source: str, fmt: str, what: str, schema: pa.Schema | None = None
) -> Description:
    """Column by column from a Parquet file; ``schema``: the types to give back where
    Parquet cannot keep them (a CSV's timestamp[s] comes back as timestamp[ms])."""
    errors = (pa.ArrowException, OSError, ValueError)
    try:
        pf = pq.ParquetFile(source, pre_buffer=False)
    except errors as exc:
        raise unreadable(exc, fmt, what) from None
    with pf:
        arrow = schema if schema is not None else pf.schema_arrow

        def chunks(i: int) -> Iterator[pa.Array]:
            field = arrow.field(i)
            try:
                for batch in pf.iter_batches(_BATCH_ROWS, columns=[field.name], use_threads=False):
                    chunk = batch.column(0)
                    yield chunk if chunk.type == field.type else chunk.cast(field.type)
            except errors as exc:
                raise unreadable(exc, fmt, what, f"; column '{field.name}'") from None

        if len(set(arrow.names)) != len(arrow.names):  # not readable by name: read it whole
            try:
                table = pf.read()
            except errors as exc:
                raise unreadable(exc, fmt, what) from None
            return schema_of(table.schema), profile_table(table)
        return schema_of(arrow), profile_columns(arrow, pf.metadata.num_rows, chunks)
