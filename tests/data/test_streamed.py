"""Large tables described a block and a column at a time, DataFrames written a row group at a
time, and the progress shown while registering."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.data.conftest import World

from modelwright import InvalidInput
from modelwright.data import _streamed
from modelwright.data._streamed import csv_to_parquet, describe_file
from modelwright.data.profile import profile_table, schema_of
from modelwright.data.tabular import read_table, write_frame

ROWS = 3_000
TINY = 4096  # bytes of CSV a block: a few hundred rows


def _frame(n: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "amount": rng.normal(100, 30, n).round(3),
            "city": rng.choice(["paris", "lyon", "nice", None], n),
            "flag": rng.random(n) < 0.3,
            "when": (pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="min"))
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_numpy(),
            "day": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        }
    )


def _csv(path: Path, df: pd.DataFrame) -> Path:
    df.to_csv(path, index=False)
    return path


def _whole(path: Path, fmt: str = "csv") -> tuple[object, object]:
    """What describing a file gave when it was read whole."""
    table = read_table(str(path), fmt)
    return schema_of(table.schema), profile_table(table)


def test_a_csv_of_many_blocks_is_described_as_when_read_whole(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", _frame())
    spilled = csv_to_parquet(str(path), tmp_path / "t.parquet", "csv", block_size=TINY)
    assert spilled.rows == ROWS
    assert spilled.row_groups == pq.ParquetFile(spilled.path).num_row_groups > 10
    assert describe_file(str(path), "csv", "the file", block_size=TINY) == _whole(path)


def test_a_tsv_is_parsed_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    _frame().to_csv(path, index=False, sep="\t")
    assert describe_file(str(path), "tsv", "the file", block_size=TINY) == _whole(path, "tsv")


def test_a_later_block_that_does_not_fit_the_first_widens_the_column(tmp_path: Path) -> None:
    """Types are inferred from the first block; a later value they cannot hold widens its
    column to what reading the whole file infers, never an error or another profile."""
    df = _frame()
    df["ints_then_decimal"] = [*range(ROWS - 1), 1.5]
    df["ints_then_text"] = [*range(ROWS - 1), "abc"]
    df["empty_then_text"] = [None] * (ROWS - 1) + ["late"]
    path = _csv(tmp_path / "t.csv", df)
    schema, profile = describe_file(str(path), "csv", "the file", block_size=TINY)
    assert (schema, profile) == _whole(path)
    types = {c.name: c.type for c in schema or []}
    assert types["ints_then_decimal"] == "double"
    assert types["ints_then_text"] == types["empty_then_text"] == "string"
    assert types["when"] == "timestamp[s]"  # kept, though Parquet stores it in ms


def test_a_malformed_row_in_a_later_block_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path / "t.csv", _frame())
    with path.open("a") as f:
        f.write("1,2,3,4,5,6,7,8\n")
    with pytest.raises(InvalidInput) as err:
        describe_file(str(path), "csv", "the file", block_size=TINY)
    assert "cannot be read as CSV" in str(err.value)
    assert "Expected 6 columns, got 8" in str(err.value)
    assert "in the rows after row" in str(err.value)
    assert err.value.details["field"] == "format"


def test_a_parquet_file_is_described_column_by_column_as_when_read_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(read_table(str(_csv(tmp_path / "t.csv", _frame())), "csv"), path, 500)
    assert describe_file(str(path), "parquet", "the file") == _whole(path, "parquet")


def test_a_frame_is_written_a_row_group_at_a_time_into_the_bytes_of_one_write(
    tmp_path: Path,
) -> None:
    df = _frame()
    for frame in (df, df.set_index("city"), df.iloc[7:2_000], df.iloc[0:0]):
        whole = io.BytesIO()
        # Row numbers (an unnamed RangeIndex) are not stored; any other index is.
        row_numbers = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
        table = pa.Table.from_pandas(frame, preserve_index=not row_numbers)
        pq.write_table(table, whole, row_group_size=256)
        sliced, rows = io.BytesIO(), []
        write_frame(frame, sliced, row_group=256, on_rows=rows.append)
        assert sliced.getvalue() == whole.getvalue()
        assert sum(rows) == len(frame)
        groups = pq.ParquetFile(io.BytesIO(sliced.getvalue())).num_row_groups
        assert groups == max(1, -(-len(frame) // 256))


# -- through the client -------------------------------------------------------------------------
def test_a_csv_streamed_in_blocks_gives_the_version_a_whole_read_gave(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_streamed, "BLOCK_SIZE", TINY)
    path = _csv(tmp_path / "t.csv", _frame())
    v = world.client.register_dataset("t", path, workspace="demo", environment="dev")
    assert (v.kind, v.format, v.size) == ("file", "csv", path.stat().st_size)
    assert v.digest == hashlib.sha256(path.read_bytes()).hexdigest()
    schema, profile = _whole(path)
    assert (v.columns, v.profile) == (schema, profile)
    assert v.profile is not None and v.profile.rows == ROWS


def test_a_frame_is_stored_as_the_bytes_of_one_parquet_write(world: World) -> None:
    df = _frame()
    whole = io.BytesIO()
    # Its row numbers are not stored: one write of the frame without its index.
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), whole)
    v = world.client.register_dataset("f", df, workspace="demo", environment="dev")
    assert v.digest == hashlib.sha256(whole.getvalue()).hexdigest()
    assert v.profile is not None and v.profile.rows == ROWS


def test_progress_bars_are_drawn_when_asked_and_not_otherwise(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = world.client
    path = _csv(tmp_path / "t.csv", _frame())
    c.register_dataset("a", path, workspace="demo", environment="dev", progress=True)
    shown = capsys.readouterr().err
    assert "storing" in shown and "profiling" in shown

    c.register_dataset("b", _frame(), workspace="demo", environment="dev", progress=True)
    shown = capsys.readouterr().err
    assert f"{ROWS:,}/{ROWS:,} rows" in shown and "hashing" in shown

    c.register_dataset("c", path, workspace="demo", environment="dev", progress=False)
    c.register_dataset("d", path, workspace="demo", environment="dev")  # not a terminal
    assert capsys.readouterr().err == ""


def test_a_progress_callback_gets_every_phase(world: World) -> None:
    seen: dict[str, tuple[int, int]] = {}

    def progress(phase: str, done: int, total: int) -> None:
        seen[phase] = (done, total)

    v = world.client.register_dataset(
        "f", _frame(), workspace="demo", environment="dev", progress=progress
    )
    assert seen["rows"] == (ROWS, ROWS)
    assert seen["hash"] == seen["store"] == seen["profile"] == (v.size, v.size)


def test_strings_are_counted_as_pandas_counts_them() -> None:
    """Most frequent first, ties in code point order, the top values only; counted a chunk
    at a time (here 202 chunks, merged as they come)."""
    rng = np.random.default_rng(5)
    words = np.array(["b", "a", "é", "Z", "z", "😀", "ab", "10", "9", " "])
    values = ["".join(rng.choice(words, 3)) for _ in range(4_000)] + [None] * 30
    col = pa.chunked_array(
        [pa.array(values[i : i + 20], pa.string()) for i in range(0, len(values), 20)]
    )
    profile = profile_table(pa.table({"s": col})).columns["s"]
    series = pd.Series(values, dtype=object).dropna()
    counts = series.value_counts()
    expected = sorted(counts.items(), key=lambda p: (-p[1], p[0]))
    assert len(expected) > 100
    assert list((profile.value_counts or {}).items()) == expected[:100]
    assert (profile.count, profile.missing, profile.distinct) == (4_000, 30, len(expected))
    assert profile.other == 4_000 - sum(n for _, n in expected[:100])
