"""Profiles of tables above the exact threshold: read a batch at a time, quantiles and large
distinct and value counts from sketches, marked approximate; everything else exact."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path

import datasketches as ds
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from tests.data.conftest import World

from modelwright.data import _sketched, profile
from modelwright.data._streamed import describe_file
from modelwright.data.models import DatasetProfile
from modelwright.data.profile import QUANTILES, profile_table
from modelwright.data.tabular import read_table

ROWS = 60_000
BLOCK = 1 << 16  # bytes of CSV a block: many row groups


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sketched above 1,000 rows, exact distinct counts up to 500 values."""
    monkeypatch.setattr(profile, "EXACT_ROWS", 1_000)
    monkeypatch.setattr(_sketched, "EXACT_DISTINCT", 500)


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    amount = rng.normal(100, 30, ROWS).round(3)
    amount[rng.random(ROWS) < 0.05] = np.nan
    amount[:3] = [np.inf, -np.inf, np.inf]
    # A skewed column: a Zipf law over many values, the most frequent far ahead.
    skewed = np.char.add("v", rng.zipf(1.4, ROWS).astype(str))
    return pd.DataFrame(
        {
            "amount": amount,
            "code": rng.integers(0, 1_000_000, ROWS),
            "small": rng.integers(0, 7, ROWS),
            "word": skewed,
            "flag": rng.random(ROWS) < 0.3,
            "when": (
                pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, ROWS), "s")
            ).strftime("%Y-%m-%d %H:%M:%S"),
        }
    )


@pytest.fixture
def described(
    tmp_path: Path, low_threshold: None
) -> tuple[DatasetProfile, DatasetProfile, pd.DataFrame]:
    """The profile of a CSV as registering describes it (streamed, sketched) and the exact one."""
    df = _frame()
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    _, streamed = describe_file(str(path), "csv", "the file", block_size=BLOCK)
    assert streamed is not None
    exact = _exact(str(path))
    return streamed, exact, df


def _exact(path: str) -> DatasetProfile:
    with pytest.MonkeyPatch.context() as m:
        m.setattr(profile, "EXACT_ROWS", 10**9)
        return profile_table(read_table(path, "csv"))


def test_a_profile_below_the_threshold_is_exact_and_marks_nothing(tmp_path: Path) -> None:
    df = _frame()
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    _, described = describe_file(str(path), "csv", "the file", block_size=BLOCK)
    assert described is not None
    assert described == _exact(str(path))
    assert all(c.approximate is None for c in described.columns.values())
    # Stored without the field, as before it existed; an old profile loads.
    stored = described.model_dump(exclude_none=True)
    assert not any("approximate" in c for c in stored["columns"].values())
    assert DatasetProfile.model_validate(stored) == described


def test_above_the_threshold_the_sketched_figures_are_marked_and_the_rest_is_exact(
    described: tuple[DatasetProfile, DatasetProfile, pd.DataFrame],
) -> None:
    streamed, exact, _ = described
    assert streamed.rows == exact.rows == ROWS
    marks = {name: c.approximate for name, c in streamed.columns.items()}
    assert marks == {
        "amount": ["distinct", "quantiles"],  # thousands of distinct decimals
        "code": ["distinct", "quantiles"],
        "small": ["quantiles"],  # seven values: counted exactly
        "word": ["distinct", "other", "value_counts"],
        "flag": None,  # two values: counted exactly
        "when": ["distinct"],
    }
    for name, column in streamed.columns.items():
        want = exact.columns[name]
        assert (column.kind, column.type) == (want.kind, want.type), name
        assert (column.count, column.missing, column.infinite) == (
            want.count,
            want.missing,
            want.infinite,
        ), name
        assert (column.min, column.max) == (want.min, want.max), name
        if column.mean is not None:
            assert column.mean == pytest.approx(want.mean, rel=1e-12), name
            assert column.std == pytest.approx(want.std, rel=1e-12), name
        if "distinct" not in (column.approximate or []):
            assert column.distinct == want.distinct, name
    assert streamed.columns["small"].distinct == 7
    assert streamed.columns["flag"].value_counts == exact.columns["flag"].value_counts


def test_histogram_counts_are_exact_and_sum_to_the_finite_values(
    described: tuple[DatasetProfile, DatasetProfile, pd.DataFrame],
) -> None:
    streamed, exact, _ = described
    for name in ("amount", "code", "small"):
        column, want = streamed.columns[name], exact.columns[name]
        assert column.histogram is not None and want.histogram is not None
        assert column.histogram == want.histogram, name
        assert sum(column.histogram.counts) == column.count - (column.infinite or 0)


def test_quantiles_are_within_the_rank_error_of_the_kll_sketch(
    described: tuple[DatasetProfile, DatasetProfile, pd.DataFrame],
) -> None:
    streamed, _, df = described
    # The documented normalised rank error holds with 99% confidence; a test must not fail
    # one run in a hundred, so twice it (far beyond any run of the fixed data).
    bound = 2 * ds.kll_doubles_sketch.get_normalized_rank_error(_sketched.KLL_K, False)
    for name in ("amount", "code", "small"):
        values = np.sort(df[name].to_numpy(dtype="float64"))
        values = values[np.isfinite(values)]
        quantiles = streamed.columns[name].quantiles
        assert quantiles is not None and list(quantiles) == [f"{q:g}" for q in QUANTILES]
        for q in QUANTILES:
            estimate = quantiles[f"{q:g}"]
            # The ranks the estimate spans among the exact values (ties span a range).
            lo = np.searchsorted(values, estimate, "left") / len(values)
            hi = np.searchsorted(values, estimate, "right") / len(values)
            assert lo - bound <= q <= hi + bound, (name, q, estimate)


def test_distinct_counts_are_within_the_hll_error(
    described: tuple[DatasetProfile, DatasetProfile, pd.DataFrame],
) -> None:
    streamed, exact, _ = described
    # HLL's relative standard error is 1.04 / sqrt(2**lg_k): three of them.
    error = 3 * 1.04 / math.sqrt(1 << _sketched.HLL_LG_K)
    for name in ("amount", "code", "word", "when"):
        want = exact.columns[name].distinct
        assert want is not None and want > 500
        assert streamed.columns[name].distinct == pytest.approx(want, rel=error), name


def test_the_top_values_of_a_skewed_column_are_found(
    described: tuple[DatasetProfile, DatasetProfile, pd.DataFrame],
) -> None:
    streamed, exact, _ = described
    column, want = streamed.columns["word"], exact.columns["word"]
    assert column.value_counts is not None and want.value_counts is not None
    # The frequent-items sketch's documented bound on a count's error.
    slack = 3.5 / (1 << 12) * ROWS
    assert list(column.value_counts)[:10] == list(want.value_counts)[:10]
    for value, n in column.value_counts.items():
        assert abs(n - want.value_counts.get(value, 0)) <= slack, value
    assert column.other == column.count - sum(column.value_counts.values())


def test_a_dataframe_stored_as_parquet_is_sketched_as_the_csv_is(
    described: tuple[DatasetProfile, DatasetProfile, pd.DataFrame], tmp_path: Path
) -> None:
    streamed, _, df = described
    df.to_parquet(tmp_path / "t.parquet")
    _, from_parquet = describe_file(str(tmp_path / "t.parquet"), "parquet", "the DataFrame")
    assert from_parquet is not None
    for name, column in from_parquet.columns.items():
        if name == "when":  # a string in the DataFrame, a timestamp parsed from the CSV
            continue
        assert column.approximate == streamed.columns[name].approximate, name
        assert column.histogram == streamed.columns[name].histogram, name


def test_a_registered_version_keeps_its_approximate_marks(
    world: World, low_threshold: None, tmp_path: Path
) -> None:
    df = _frame()
    v = world.client.register_dataset("big", df, workspace="demo", environment="dev")
    df.to_parquet(tmp_path / "t.parquet", index=False)
    _, described = describe_file(str(tmp_path / "t.parquet"), "parquet", "the DataFrame")
    read = world.client.get_dataset_version("big", workspace="demo", environment="dev")
    assert read.profile == v.profile
    assert read.profile is not None and described is not None
    # KLL's compactions are random: its quantiles vary within the rank error between runs.
    assert _without_quantiles(read.profile) == _without_quantiles(described)
    assert read.profile.columns["word"].approximate == ["distinct", "other", "value_counts"]
    assert read.profile.columns["flag"].approximate is None


def _without_quantiles(p: DatasetProfile) -> DatasetProfile:
    columns = {n: c.model_copy(update={"quantiles": None}) for n, c in p.columns.items()}
    return p.model_copy(update={"columns": columns})


def test_every_kind_of_column_is_sketched_as_the_exact_profile_says_apart_from_marked_figures(
    low_threshold: None,
) -> None:
    n = 3_000
    table = pa.table(
        {
            "no_ints": pa.array([None] * n, pa.int64()),
            "all_nan": pa.array([float("nan")] * n),
            "all_inf": pa.array([float("inf")] * n),
            "decimal": pa.array(
                [decimal.Decimal("1.25") * i for i in range(n)], pa.decimal128(12, 2)
            ),
            "day": pa.array([dt.date(2020, 1, 1) + dt.timedelta(days=i % 400) for i in range(n)]),
            "no_flags": pa.array([None] * n, pa.bool_()),
            "no_words": pa.array([None] * n, pa.string()),
            "huge": pa.array([2**62 + i for i in range(n)], pa.int64()),  # no float64 bins
            "null": pa.nulls(n),
            "category": pa.array(["a", "b", "c"] * (n // 3)).dictionary_encode(),
            "int_category": pa.array([1, 2, 3] * (n // 3)).dictionary_encode(),
            "bytes": pa.array([b"x"] * n),
            "instant": pa.array(np.arange(n).astype("datetime64[ns]")),
        }
    )
    sketched = profile_table(table)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(profile, "EXACT_ROWS", 10**9)
        exact = profile_table(table)
    for name, column in sketched.columns.items():
        marked = set(column.approximate or [])
        got = column.model_dump(exclude=marked | {"approximate"})
        assert got == exact.columns[name].model_dump(exclude=marked | {"approximate"}), name
    assert sketched.columns["decimal"].approximate == ["distinct", "quantiles"]
    assert sketched.columns["huge"].histogram is None
    assert sketched.columns["category"].approximate is None
