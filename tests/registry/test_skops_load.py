"""Loading scikit-learn models: skops's audit with the estimator classes recorded at save (each
checked again), never a blind trust."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from modelwright.errors import PermissionDenied
from modelwright.registry.artifact import MANIFEST, load_dir, save_dir
from modelwright.registry.flavors._skops import _public

pytest.importorskip("skops")


class Shift(TransformerMixin, BaseEstimator):
    """A custom transformer: a type skops does not trust by default."""

    def fit(self, x: pd.DataFrame, y: object = None) -> Shift:
        return self

    def transform(self, x: pd.DataFrame) -> pd.DataFrame:
        return x + 1


def _pipeline(frame: pd.DataFrame, labels: np.ndarray, *steps: object):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(*steps, StandardScaler(), LogisticRegression()).fit(frame, labels)


def _rewrite_manifest(path: Path, **meta: object) -> None:
    manifest = json.loads((path / MANIFEST).read_bytes())
    manifest["flavor_meta"].update(meta)
    (path / MANIFEST).write_text(json.dumps(manifest))


def test_save_records_the_estimators_skops_trusts(tmp_path, frame, labels) -> None:
    manifest, _ = save_dir(_pipeline(frame, labels), tmp_path / "m")
    assert manifest.flavor_meta["untrusted_types"] == []
    assert manifest.flavor_meta["estimators"] == [
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
    ]


@pytest.mark.parametrize(
    ("name", "public"),
    [
        ("sklearn.linear_model._logistic.LogisticRegression", True),
        ("sklearn.pipeline.Pipeline", True),
        ("sklearn.neighbors._classification.KNeighborsClassifier", True),
        ("sklearn.base.BaseEstimator", False),  # abstract base, not listed by skops
        ("sklearn.utils._testing.TempMemmap", False),  # not an estimator
        ("sklearn.linear_model._logistic.LogisticRegressionX", False),
        ("builtins.eval", False),
        ("os.system", False),
        ("sklearn..os.system", False),
        ("tests.registry.test_skops_load.Shift", False),
    ],
)
def test_only_public_scikit_learn_estimators_are_trusted_from_the_metadata(name, public) -> None:
    assert _public(name) is public


def test_custom_types_need_trust_and_the_metadata_cannot_vouch_for_them(
    tmp_path, frame, labels
) -> None:
    model = _pipeline(frame, labels, Shift())
    manifest, _ = save_dir(model, tmp_path / "m")
    assert manifest.flavor_meta["untrusted_types"] == ["tests.registry.test_skops_load.Shift"]
    with pytest.raises(PermissionDenied, match="trust_pickle=True"):
        load_dir(tmp_path / "m")
    loaded, _ = load_dir(tmp_path / "m", trusted=True)
    assert list(loaded.predict(frame[:5])) == list(model.predict(frame[:5]))
    # Or the caller vouches for the very types the metadata declares (a packaged server does).
    shift = "tests.registry.test_skops_load.Shift"
    loaded, _ = load_dir(tmp_path / "m", trusted_types=[shift])
    assert list(loaded.predict(frame[:5])) == list(model.predict(frame[:5]))
    with pytest.raises(PermissionDenied, match=rf"does not trust by default: {shift}\)"):
        load_dir(tmp_path / "m", trusted_types=["tests.registry.test_skops_load.Other"])

    # An edited manifest that hides the custom type, or lists it as an estimator, is refused
    # before anything is created, with or without trust.
    _rewrite_manifest(
        tmp_path / "m",
        untrusted_types=[],
        estimators=[*manifest.flavor_meta["estimators"], "tests.registry.test_skops_load.Shift"],
    )
    for trusted in (False, True):
        with pytest.raises(PermissionDenied, match=r"does not declare: tests\.registry"):
            load_dir(tmp_path / "m", trusted=trusted)
    with pytest.raises(PermissionDenied, match=r"does not declare: tests\.registry"):
        load_dir(tmp_path / "m", trusted_types=[shift])


def test_a_model_saved_without_the_estimator_list_still_loads(tmp_path, frame, labels) -> None:
    model = _pipeline(frame, labels)
    save_dir(model, tmp_path / "m")
    _rewrite_manifest(tmp_path / "m", estimators=[])
    loaded, _ = load_dir(tmp_path / "m")
    assert list(loaded.predict(frame[:5])) == list(model.predict(frame[:5]))
