from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelwright.errors import InvalidInput
from modelwright.registry.signature import infer_signature, validate_input
from modelwright.registry.uri import parse_model_uri


def test_dataframe_schema_names_each_problem() -> None:
    ex = pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "c": ["x", "y"]})
    sig = infer_signature(ex, np.array([0, 1]))
    assert [(c.name, c.type) for c in sig.inputs.columns] == [
        ("a", "float"),
        ("b", "integer"),
        ("c", "string"),
    ]
    assert sig.outputs is not None and sig.outputs.shape == [-1]
    with pytest.raises(InvalidInput, match="missing column 'b'"):
        validate_input(sig.inputs, ex.drop(columns=["b"]))
    with pytest.raises(InvalidInput, match="unexpected column 'z'"):
        validate_input(sig.inputs, ex.assign(z=1))
    with pytest.raises(InvalidInput, match=r"column 'b' has type float .* expects integer"):
        validate_input(sig.inputs, ex.assign(b=[1.5, 2.5]))
    # Integers widen to float; columns come back in signature order.
    out = validate_input(sig.inputs, ex[["c", "b", "a"]].assign(a=[1, 2]))
    assert list(out.columns) == ["a", "b", "c"] and out["a"].dtype == "float64"


def test_tensor_schema_checks_shape_and_dtype() -> None:
    sig = infer_signature(np.zeros((4, 3), dtype="float32"))
    assert sig.inputs.shape == [-1, 3]
    assert validate_input(sig.inputs, np.ones((2, 3), dtype="float32")).shape == (2, 3)
    with pytest.raises(InvalidInput, match=r"shape \(2, 4\), the model expects \(n, 3\)"):
        validate_input(sig.inputs, np.ones((2, 4), dtype="float32"))
    with pytest.raises(InvalidInput, match="dtype <U1"):
        validate_input(sig.inputs, np.array([["a", "b", "c"]]))


def test_model_uris() -> None:
    assert parse_model_uri("models:/churn/3").version == 3
    ref = parse_model_uri("models:/prod/churn@champion")
    assert (ref.environment, ref.name, ref.alias) == ("prod", "churn", "champion")
    for bad in ("churn/3", "models:/churn", "models:/a/b/c", "models:/../x@y"):
        with pytest.raises(InvalidInput, match="uri"):
            parse_model_uri(bad)
