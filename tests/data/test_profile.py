"""Profiles agree with pandas and numpy; schemas, diffs, manifests and version references."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from modelwright import InvalidInput
from modelwright.data.diff import diff_versions
from modelwright.data.manifest import ManifestEntry, dump_manifest, load_manifest
from modelwright.data.models import DatasetVersionInfo, parse_ref
from modelwright.data.profile import HISTOGRAM_BINS, QUANTILES, profile_table, schema_of
from modelwright.data.tabular import dataframe_to_parquet, format_of, format_of_files


def _small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1.5, 2.0, np.nan, 4.25, math.inf, -3.0, 2.0, 10.0],
            "n": [3, 1, 4, 1, 5, 9, 2, 6],
            "big": [2**62 + 1, 2**62 + 3, 1, 2, 3, 4, 5, 6],
            "s": ["b", "a", None, "b", "c", "b", "a", "b"],
            "c": pd.Categorical(
                ["u", "v", "u", "u", None, "v", "u", "u"], categories=["u", "v", "w"]
            ),
            "flag": [True, False, True, True, False, True, True, True],
            "t": pd.to_datetime(
                ["2024-01-05", None, "2023-12-31", "2024-03-01", "2024-01-01", None, None, None]
            ),
            "none": [None] * 8,
        }
    )


def test_numeric_profile_matches_pandas_and_numpy() -> None:
    df = _small()
    p = profile_table(pa.Table.from_pandas(df)).columns
    x = df["x"]
    finite = x[np.isfinite(x)]
    px = p["x"]
    assert (px.kind, px.type, px.count, px.missing, px.infinite) == ("numeric", "double", 7, 1, 1)
    assert px.count == x.count()
    assert px.distinct == x.nunique()
    assert (px.min, px.max) == (finite.min(), finite.max())
    assert px.mean == pytest.approx(finite.mean())
    assert px.std == pytest.approx(finite.std())  # sample std, ddof=1
    assert px.quantiles == pytest.approx(
        {f"{q:g}": v for q, v in zip(QUANTILES, finite.quantile(list(QUANTILES)), strict=True)}
    )
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    assert px.histogram is not None
    assert px.histogram.counts == counts.tolist()
    assert px.histogram.edges == pytest.approx(edges.tolist())

    described = df["n"].describe()
    pn = p["n"]
    assert (pn.count, pn.min, pn.max) == (described["count"], described["min"], described["max"])
    assert pn.mean == pytest.approx(described["mean"])
    assert pn.std == pytest.approx(described["std"])
    assert pn.quantiles is not None
    assert [pn.quantiles[k] for k in ("0.25", "0.5", "0.75")] == pytest.approx(
        [described["25%"], described["50%"], described["75%"]]
    )
    # Integer extremes stay exact beyond 2**53.
    assert (p["big"].min, p["big"].max) == (1, 2**62 + 3)


def test_categorical_datetime_and_empty_profiles() -> None:
    df = _small()
    p = profile_table(pa.Table.from_pandas(df)).columns
    ps = p["s"]
    assert (ps.kind, ps.count, ps.missing, ps.distinct) == ("categorical", 7, 1, 3)
    assert ps.value_counts == df["s"].value_counts().to_dict() == {"b": 4, "a": 2, "c": 1}
    assert list(ps.value_counts) == ["b", "a", "c"]  # most frequent first
    assert ps.other == 0
    pc = p["c"]
    assert (pc.type, pc.count, pc.missing, pc.value_counts) == (
        "category<string>",
        7,
        1,
        {"u": 5, "v": 2},  # the unused category 'w' is not a value seen
    )
    assert p["flag"].value_counts == {"true": 6, "false": 2}
    pt = p["t"]
    assert (pt.kind, pt.count, pt.missing, pt.distinct) == ("datetime", 4, 4, 4)
    assert (pt.min, pt.max) == ("2023-12-31T00:00:00", "2024-03-01T00:00:00")
    assert (p["none"].kind, p["none"].count, p["none"].missing) == ("empty", 0, 8)


def test_many_categories_keep_the_top_and_count_the_rest() -> None:
    values = [f"v{i:03d}" for i in range(150) for _ in range(1 + (i % 2))]
    p = profile_table(pa.table({"k": values})).columns["k"]
    assert p.distinct == 150
    assert p.value_counts is not None and len(p.value_counts) == 100
    # Ties are broken by value, so the profile of the same data is always the same.
    assert list(p.value_counts)[:3] == ["v001", "v003", "v005"]
    assert p.other == len(values) - sum(p.value_counts.values())


def test_empty_and_constant_columns() -> None:
    p = profile_table(pa.table({"a": pa.array([], pa.int64())})).columns["a"]
    assert (p.count, p.min, p.mean, p.histogram) == (0, None, None, None)
    p = profile_table(pa.table({"a": [7.0]})).columns["a"]
    assert (p.min, p.max, p.mean, p.std) == (7.0, 7.0, 7.0, None)
    assert p.histogram is not None and sum(p.histogram.counts) == 1


def test_schema_names() -> None:
    table = pa.Table.from_pandas(_small(), preserve_index=False)
    assert [(c.name, c.type) for c in schema_of(table.schema)] == [
        ("x", "double"),
        ("n", "int64"),
        ("big", "int64"),
        ("s", "string"),
        ("c", "category<string>"),
        ("flag", "bool"),
        ("t", "timestamp[us]"),
        ("none", "null"),
    ]


def test_the_same_frame_gives_the_same_bytes() -> None:
    assert dataframe_to_parquet(_small()) == dataframe_to_parquet(_small().copy())


def test_formats_from_names() -> None:
    assert [format_of(n) for n in ("a.CSV", "b.parquet", "c.jsonl", "d", "e.tar.gz", "f.npy")] == [
        "csv",
        "parquet",
        "json",
        "binary",
        "gz",
        "npy",
    ]
    assert format_of_files(["a.csv", "b/c.csv"]) == "csv"
    assert format_of_files(["a.csv", "b.parquet"]) == "mixed"


def test_references() -> None:
    assert parse_ref("churn") == ("churn", None)
    assert parse_ref("churn@latest") == ("churn", None)
    assert parse_ref("churn@v12") == ("churn", 12)
    assert parse_ref("churn@3") == ("churn", 3)
    for bad in ("churn@v0", "churn@", "churn@x", "@v1", "a/b@v1", "churn@v1@v2"):
        with pytest.raises(InvalidInput):
            parse_ref(bad)


def test_manifests_are_canonical_and_checked() -> None:
    a = ManifestEntry("b/x.csv", "1" * 64, 3)
    b = ManifestEntry("a.csv", "2" * 64, 0)
    data = dump_manifest([a, b])
    assert data == dump_manifest([b, a])
    assert load_manifest(data) == [b, a]
    for path in ("../x", "/etc/passwd", "a/../../b", ""):
        bad = dump_manifest([ManifestEntry(path, "1" * 64, 1)])
        with pytest.raises(InvalidInput, match="bad or repeated path"):
            load_manifest(bad)
    with pytest.raises(InvalidInput, match="not a directory manifest"):
        load_manifest(b"\x00\x01 not json")
    with pytest.raises(InvalidInput, match="repeated"):
        load_manifest(dump_manifest([a, a]))


def _info(version: int, df: pd.DataFrame, digest: str) -> DatasetVersionInfo:
    table = pa.Table.from_pandas(df, preserve_index=False)
    return DatasetVersionInfo(
        workspace="w",
        environment="dev",
        name="d",
        version=version,
        digest=digest,
        datastore="lake",
        classification="non-production",
        kind="dataframe",
        format="parquet",
        size=100 * version,
        files=1,
        rows=table.num_rows,
        description="",
        columns=schema_of(table.schema),
        profile=profile_table(table),
        created_at=pd.Timestamp("2024-01-01", tz="UTC").to_pydatetime(),
        created_by="me",
        run_id=None,
    )


def test_diff_reports_schema_and_statistics() -> None:
    a = _info(1, pd.DataFrame({"x": [1, 2, 3], "s": ["a", "b", "a"], "gone": [1, 1, 1]}), "1" * 64)
    b = _info(
        2, pd.DataFrame({"x": [1.0, 2.0, 9.0], "s": ["a", "c", "a"], "new": [0, 0, 0]}), "2" * 64
    )
    d = diff_versions(a, b)
    assert (d.a, d.b, d.same_content, d.schema_changed, d.size) == (
        "d@v1",
        "d@v2",
        False,
        True,
        (100, 200),
    )
    by = {c.name: c for c in d.columns}
    assert [c.name for c in d.columns] == ["x", "s", "new", "gone"]
    assert (by["x"].status, by["x"].type_a, by["x"].type_b) == ("changed", "int64", "double")
    assert {s.stat: (s.a, s.b, s.change) for s in by["x"].stats}["max"] == (3, 9.0, 6.0)
    assert (by["s"].new_values, by["s"].gone_values) == (["c"], ["b"])
    assert (by["new"].status, by["gone"].status) == ("added", "removed")
    assert all(c.status == "unchanged" for c in diff_versions(a, a).columns)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(5_000, dtype=np.int64),  # sorted and distinct: generated ids
        np.repeat(np.arange(50, dtype=np.int64), 100),  # sorted with repeats
        np.random.default_rng(1).integers(0, 3, 10_000),  # a few classes: bincount
        np.random.default_rng(2).integers(-(2**62), 2**62, 10_000),  # wide range, unsorted
        np.array([2**62 + 1, 2**62 + 3, 2**62 + 1, 5], dtype=np.int64),
        np.random.default_rng(3).integers(0, 200_000, 300_000).astype(np.uint32),
        np.random.default_rng(4).normal(size=100_000),  # mostly distinct floats: sorted
        np.round(np.random.default_rng(5).normal(size=100_000), 1),  # repeating floats: hash
        np.array([0.0, -0.0, math.inf, -math.inf, math.inf, np.nan, 1.5, np.nan]),
        np.sort(np.random.default_rng(6).normal(size=10_000)),
        np.array([], dtype=np.float64),
        np.array([7], dtype=np.int8),
    ],
)
def test_distinct_counts_are_exact(values: np.ndarray) -> None:
    p = profile_table(pa.table({"v": values})).columns["v"]
    assert p.distinct == pd.Series(values).nunique()
    with_nulls = pa.table({"v": pa.array(values, mask=np.arange(len(values)) % 7 == 3)})
    q = profile_table(with_nulls).columns["v"]
    expected = pd.Series(values[np.arange(len(values)) % 7 != 3]).nunique()
    assert (q.distinct, q.count + q.missing) == (expected, len(values))


def test_profile_of_a_chunked_column_is_that_of_one_array() -> None:
    """A directory's files arrive as chunks of one column: the profile does not depend on
    how the rows are split between them."""
    rng = np.random.default_rng(7)
    values = np.where(rng.random(3_000) < 0.05, np.nan, rng.normal(size=3_000))
    whole = profile_table(pa.table({"v": values}))
    parts = pa.table({"v": pa.chunked_array([values[:1000], values[1000:1001], values[1001:]])})
    assert profile_table(parts) == whole
    ints = np.arange(3_000)
    split = pa.chunked_array([ints[:10], ints[10:]])
    assert profile_table(pa.table({"i": split})) == profile_table(pa.table({"i": ints}))


@pytest.mark.parametrize(
    "values",
    [
        np.repeat(np.arange(70_000, dtype=np.int64), 3),  # sorted, repeats across a boundary
        np.random.default_rng(14).integers(0, 5, 200_000),  # a small range
        np.concatenate(
            (
                [-math.inf] * 3,
                np.sort(np.random.default_rng(15).normal(size=150_000)),
                [math.inf] * 2,
            )
        ),  # sorted with infinities at both ends
        np.random.default_rng(16).normal(size=150_000),  # sorted here, moments in order
    ],
)
def test_every_way_gives_the_same_figures_however_the_rows_are_chunked(
    values: np.ndarray,
) -> None:
    """Passes read fixed blocks of positions, and a block may span chunks: the profile,
    the mean to its last bit, is that of one array."""
    whole = profile_table(pa.table({"v": values}))
    cuts = [0, 1, 65_535, 65_537, 131_072, 140_000, len(values)]
    parts = pa.chunked_array([values[a:b] for a, b in itertools.pairwise(cuts) if b > a])
    chunked = profile_table(pa.table({"v": parts}))
    assert chunked == whole
    assert chunked.columns["v"].distinct == pd.Series(values).nunique()


@pytest.mark.parametrize(
    "values",
    [
        np.arange(-2_500, 2_500, dtype=np.int64),  # sorted: positions and binary search
        np.repeat(np.arange(50, dtype=np.int16), 100),
        np.sort(np.random.default_rng(8).normal(size=20_001)),
        np.array([-math.inf, -1.0, 0.0, 0.0, 2.5, math.inf, math.inf]),
        np.random.default_rng(9).integers(-40, 3, 10_001),  # a small range: bincount
        np.random.default_rng(10).integers(0, 2, 100_000).astype(np.uint8),
        np.random.default_rng(11).integers(0, 200_000, 50_000).astype(np.uint64),
        np.random.default_rng(12).integers(-(2**40), 2**40, 10_000),  # wide: the general way
        np.random.default_rng(13).exponential(size=30_000),
        np.array([127, 127, 127], np.int8),  # an edge past the dtype's range
        np.array([4_294_967_295] * 2, np.uint32),
        np.array([-100, 100, 5], np.int8),  # a range wider than int8 can shift in
        np.array([-30_000, 30_000, 1], np.int16),
        np.array(2**54 + np.array([17, 96, 38, 17]), np.int64),  # beyond float64's integers
    ],
)
def test_every_way_of_summarising_agrees_with_pandas_and_numpy(values: np.ndarray) -> None:
    """Sorted columns, small integer ranges and the rest are summarised three ways; each
    gives pandas' moments and quantiles and numpy's histogram."""
    p = profile_table(pa.table({"v": values})).columns["v"]
    series = pd.Series(values)
    floats = values.astype("float64")
    finite = pd.Series(floats[np.isfinite(floats)])
    assert (p.count, p.distinct, p.infinite) == (
        len(values),
        series.nunique(),
        len(series) - len(finite),
    )
    assert (p.min, p.max) == (values[np.isfinite(floats)].min(), values[np.isfinite(floats)].max())
    assert type(p.min) is (int if values.dtype.kind in "iu" else float)
    assert p.mean == pytest.approx(finite.mean(), rel=1e-12, abs=1e-12)
    assert p.std == pytest.approx(finite.std(), rel=1e-9)
    expected = finite.quantile(list(QUANTILES)).tolist()
    assert p.quantiles is not None
    assert list(p.quantiles.values()) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    counts, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
    assert p.histogram is not None
    assert p.histogram.counts == counts.tolist()
    assert p.histogram.edges == edges.tolist()
