from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from modelwright.errors import InvalidInput
from modelwright.pipelines import node, pipeline
from modelwright.pipelines.config import load_config
from modelwright.pipelines.hashing import code_hash, serialize


def f(a: int) -> int:
    return a


def g(a: int, b: int) -> int:
    return a + b


def test_pipeline_orders_by_names_and_composes() -> None:
    p = pipeline(
        [
            node(g, ["x", "y"], "z", name="sum", tags=["late"]),
            node(f, "raw", "x", name="fx"),
            node(f, "raw", "y", name="fy"),
        ]
    )
    assert [n.name for n in p] == ["fx", "fy", "sum"]
    assert p.inputs() == ["raw"] and p.outputs() == ["z"]
    assert [n.name for n in p.only_tags("late")] == ["sum"]
    assert [n.name for n in p.to_outputs("x")] == ["fx"]
    assert [n.name for n in p.from_inputs("y")] == ["sum"]
    more = p + pipeline([node(f, "z", "w", name="last")])
    assert [n.name for n in more][-1] == "last" and len(p) == 3


def test_decorated_functions_stay_plain_functions() -> None:
    @node(inputs="a", outputs="b")
    def inc(a: int) -> int:
        return a + 1

    assert inc(1) == 2
    assert [n.name for n in pipeline([inc])] == ["inc"]


def test_cycles_duplicates_and_signatures_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="cycle"):
        pipeline([node(f, "a", "b", name="one"), node(f, "b", "a", name="two")])
    with pytest.raises(InvalidInput, match="output 'b' is produced by both 'one' and 'two'"):
        pipeline([node(f, "a", "b", name="one"), node(f, "c", "b", name="two")])
    with pytest.raises(InvalidInput, match=r"node 'g': function 'g' takes \(a, b\)"):
        node(g, ["only_one"], "out")
    with pytest.raises(InvalidInput, match=r"no node reads or writes dataset 'zz'"):
        pipeline([node(f, "a", "b")]).to_outputs("zz")


def test_config_overlays_environment_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "dev").mkdir()
    (tmp_path / "conf" / "base" / "parameters.yml").write_text("model: {depth: 3, lr: 0.1}\n")
    (tmp_path / "conf" / "dev" / "parameters.yml").write_text("model: {depth: 5}\n")
    config = load_config(tmp_path, "dev", ["model.lr=0.5"])
    assert config.parameters == {"model": {"depth": 5, "lr": 0.5}}
    with pytest.raises(InvalidInput, match=r"unknown parameter 'model\.nope'"):
        load_config(tmp_path, "dev", ["model.nope=1"])


def test_code_hash_follows_helpers_and_values_hash_by_content() -> None:
    assert code_hash(g) != code_hash(f)
    a = serialize(pd.DataFrame({"x": [1, 2]}))
    b = serialize(pd.DataFrame({"x": [1, 2]}))
    assert not isinstance(a, str) and not isinstance(b, str)
    assert a.digest == b.digest and a.format == "parquet"
    assert isinstance(serialize(object()), str)
