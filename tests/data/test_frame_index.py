"""What of a DataFrame's index a dataset keeps: row numbers are not data, a named index is."""

from __future__ import annotations

import io

import pandas as pd
import pyarrow.parquet as pq
from tests.data.conftest import World

from modelwright.data.tabular import dataframe_to_parquet


def _columns(df: pd.DataFrame) -> list[str]:
    return pq.read_schema(io.BytesIO(dataframe_to_parquet(df))).names


def test_row_numbers_are_not_stored_and_a_named_index_is() -> None:
    df = pd.DataFrame({"id": [7, 8, 9], "x": [1.0, 2.0, 3.0]})
    assert _columns(df) == ["id", "x"]
    assert _columns(df.iloc[1:]) == ["id", "x"]  # a RangeIndex from 1: still row numbers
    assert _columns(df.set_axis([10, 3, 5])) == ["id", "x", "__index_level_0__"]  # not row numbers
    # pandas makes 7, 8, 9 a RangeIndex named "id": stored as the column it was
    assert _columns(df.set_index("id")) == ["x", "id"]
    assert dataframe_to_parquet(df.iloc[1:]) == dataframe_to_parquet(df.iloc[1:].copy())


def test_a_named_index_is_a_column_of_the_dataset_and_comes_back(world: World) -> None:
    c = world.client
    df = pd.DataFrame({"id": [7, 8, 9], "x": [1.0, 2.0, 3.0]}).set_index("id")
    v = c.register_dataset("indexed", df, workspace="demo", environment="dev")
    assert [col.name for col in v.columns or []] == ["x", "id"]
    assert v.profile is not None and "id" in v.profile.columns
    back = c.load_dataset("indexed", workspace="demo", environment="dev")
    pd.testing.assert_frame_equal(back, df, check_index_type=False)
    plain = c.register_dataset("plain", df.reset_index(), workspace="demo", environment="dev")
    assert [col.name for col in plain.columns or []] == ["id", "x"]
