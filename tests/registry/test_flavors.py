from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.registry.conftest import Doubler

from modelwright.errors import ArtifactCorrupted, InvalidInput, PermissionDenied
from modelwright.registry.artifact import load_dir, save_dir
from modelwright.registry.flavors import FLAVORS, flavor_for
from modelwright.testing import check_flavor

sklearn = pytest.importorskip("sklearn")


def _pipeline(frame: pd.DataFrame, labels: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)


def test_sklearn_estimator_and_pipeline_pass_the_kit(frame, labels) -> None:
    from sklearn.tree import DecisionTreeClassifier

    check_flavor(FLAVORS["sklearn"], _pipeline(frame, labels), frame[:5])
    check_flavor(FLAVORS["sklearn"], DecisionTreeClassifier().fit(frame, labels), frame[:5])


def test_pyfunc_object_and_function_pass_the_kit(frame) -> None:
    check_flavor(FLAVORS["pyfunc"], Doubler(), frame[:5])
    check_flavor(FLAVORS["pyfunc"], lambda df: np.asarray(df["calls"]) + 1, frame[:5])


def test_flavor_is_chosen_by_model(frame, labels) -> None:
    assert flavor_for(_pipeline(frame, labels)).name == "sklearn"
    assert flavor_for(Doubler()).name == "pyfunc"
    with pytest.raises(InvalidInput, match="no flavor handles a int"):
        flavor_for(3)


def test_sklearn_is_saved_without_pickle(tmp_path, frame, labels) -> None:
    manifest, _ = save_dir(_pipeline(frame, labels), tmp_path / "m")
    assert [f.path for f in manifest.files] == ["model.skops"]
    # No opt-in needed: skops loads only types it (or the manifest) declares.
    model, _ = load_dir(tmp_path / "m")
    assert model.predict(frame[:3]).shape == (3,)


def test_pickle_from_outside_needs_explicit_trust(tmp_path, frame) -> None:
    save_dir(Doubler(), tmp_path / "m")
    with pytest.raises(PermissionDenied, match="trust_pickle=True"):
        load_dir(tmp_path / "m")
    model, _ = load_dir(tmp_path / "m", trusted=True)
    assert list(model.predict(frame[:2])) == list(frame["tenure"][:2] * 2)


def test_changed_file_is_refused_before_loading(tmp_path, frame, labels) -> None:
    save_dir(_pipeline(frame, labels), tmp_path / "m")
    f = tmp_path / "m" / "model.skops"
    data = bytearray(f.read_bytes())
    data[100] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(
        ArtifactCorrupted, match=r"model file model.skops has sha256 \w+, its manifest says"
    ):
        load_dir(tmp_path / "m")


def test_lightgbm_flavor(frame, labels) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    check_flavor(
        FLAVORS["lightgbm"],
        lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, labels),
        frame[:5],
    )


def test_xgboost_flavor(frame, labels) -> None:
    xgboost = pytest.importorskip("xgboost")
    check_flavor(
        FLAVORS["xgboost"], xgboost.XGBClassifier(n_estimators=5).fit(frame, labels), frame[:5]
    )


def test_torch_flavor(frame) -> None:
    pytest.importorskip("torch")
    from tests.registry._torch_model import TinyNet

    check_flavor(FLAVORS["torch"], TinyNet(2), frame[:5].to_numpy(dtype="float32"))


class Scaled:
    """A model of a library modelwright does not know; it has a predict, so pyfunc would
    take it if its own flavor were not asked first."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return np.asarray(data["tenure"]) * self.factor


class ScaledFlavor:
    """A third-party flavor, shipped under the entry point group: no pickle, a JSON file."""

    name = "scaled"
    pickle_based = False
    packages = ("numpy",)

    def handles(self, model: object) -> bool:
        return isinstance(model, Scaled)

    def save(self, model: Scaled, path) -> dict[str, object]:
        (path / "scaled.json").write_text(json.dumps({"factor": model.factor}))
        return {"file": "scaled.json"}

    def load(self, path, meta: dict[str, object]) -> Scaled:
        return Scaled(json.loads((path / str(meta["file"])).read_text())["factor"])

    def predict(self, model: Scaled, data: pd.DataFrame) -> np.ndarray:
        return model.predict(data)

    def describe(self, model: Scaled) -> dict[str, object]:
        return {"class": "Scaled", "factor": model.factor}


def test_flavors_are_found_through_their_entry_point_group(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, frame, tmp_path
) -> None:
    from importlib.metadata import EntryPoint

    from modelwright import plugins
    from modelwright.registry import flavors

    group = flavors.ENTRY_POINT_GROUP
    assert group == "modelwright.flavors"
    points = [
        EntryPoint("scaled", f"{__name__}:ScaledFlavor", group),
        EntryPoint("broken", "tests.registry.nowhere:Flavor", group),
    ]
    monkeypatch.setattr(flavors.REGISTRY, "items", dict(flavors.REGISTRY.items))
    monkeypatch.setattr(flavors.REGISTRY, "loaded", False)
    monkeypatch.setattr(plugins, "entry_points", lambda group: points)

    model = Scaled(3.0)
    flavor = flavor_for(model)  # before pyfunc, which handles anything with a predict
    assert isinstance(flavor, ScaledFlavor)
    assert flavors.get_flavor("scaled") is flavor
    assert "scaled" in flavors.flavor_names() and "broken" not in flavors.flavor_names()
    assert "flavor entry point 'broken' could not be registered" in caplog.text
    check_flavor(flavor, model, frame[:5])
    manifest, _ = save_dir(model, tmp_path / "m")
    assert manifest.flavor == "scaled" and [f.path for f in manifest.files] == ["scaled.json"]
    loaded, _ = load_dir(tmp_path / "m")  # no pickle: no trust needed
    assert list(loaded.predict(frame[:3])) == list(model.predict(frame[:3]))
    # The built-ins keep their order and their names.
    assert flavor_for(Doubler()).name == "pyfunc"
    with pytest.raises(InvalidInput, match=r"unknown flavor 'nope' \(known: .*scaled"):
        flavors.get_flavor("nope")


class _BrokenOnLoad:
    """A model whose own code fails as it is unpickled."""

    def __init__(self) -> None:
        self.table = {"a": 1}

    def predict(self, data: object) -> object:
        return data

    def __setstate__(self, state: dict[str, object]) -> None:
        raise RuntimeError("the lookup table is missing")  # the failing line


def test_a_failing_load_names_the_users_line(tmp_path) -> None:
    save_dir(_BrokenOnLoad(), tmp_path / "m")
    with pytest.raises(InvalidInput) as err:
        load_dir(tmp_path / "m", trusted=True)
    first, second = err.value.message.splitlines()
    assert first.endswith("failed: RuntimeError: the lookup table is missing")
    assert second.strip().startswith("at ") and "in __setstate__: raise RuntimeError" in second
    assert err.value.details["where"] == second.strip()
    assert isinstance(err.value.__cause__, RuntimeError)  # the full traceback stays chained
