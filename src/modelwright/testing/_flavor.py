"""The conformance kit for model flavors: every built-in passes it in CI."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelwright.errors import ArtifactCorrupted, InvalidInput
from modelwright.registry.artifact import MANIFEST, load_dir, read_manifest, save_dir
from modelwright.registry.flavors.base import Flavor
from modelwright.registry.signature import infer_signature

__all__ = ["FLAVOR_CHECKS", "check_flavor"]


def _expect(condition: bool, message: str) -> None:
    # Not `assert`: the kit must also check when Python runs with -O.
    if not condition:
        raise AssertionError(message)


def _same(a: Any, b: Any) -> bool:
    a = a.to_numpy() if isinstance(a, pd.DataFrame | pd.Series) else np.asarray(a)
    b = b.to_numpy() if isinstance(b, pd.DataFrame | pd.Series) else np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.allclose(a, b, equal_nan=True))
    return bool((a == b).all())


def _check_interface(flavor: Flavor, model: Any, example: Any, tmp: Path) -> None:
    _expect(isinstance(flavor, Flavor), f"{flavor!r} does not implement the Flavor protocol")
    _expect(bool(flavor.name) and flavor.name.isidentifier(), f"bad flavor name {flavor.name!r}")
    _expect(flavor.handles(model), f"flavor {flavor.name} does not claim its own model")
    json.dumps(flavor.describe(model))  # JSON-ready


def _check_save_load_predict(flavor: Flavor, model: Any, example: Any, tmp: Path) -> None:
    path = tmp / "raw"
    path.mkdir()
    meta = flavor.save(model, path)
    json.dumps(meta)
    _expect(any(path.iterdir()), f"flavor {flavor.name} saved no file")
    loaded = flavor.load(path, meta)
    _expect(
        _same(flavor.predict(loaded, example), flavor.predict(model, example)),
        f"flavor {flavor.name}: the loaded model predicts differently",
    )


def _check_manifest_round_trip(flavor: Flavor, model: Any, example: Any, tmp: Path) -> None:
    path = tmp / "saved"
    sig = infer_signature(example, flavor.predict(model, example))
    manifest, data = save_dir(model, path, flavor=flavor, signature=sig)
    _expect(manifest.flavor == flavor.name, "the manifest names another flavor")
    _expect((path / MANIFEST).read_bytes() == data, "the manifest on disk differs")
    loaded, again = load_dir(path, trusted=True)
    _expect(again.signature == sig, "the signature did not survive the round trip")
    _expect(
        _same(flavor.predict(loaded, example), flavor.predict(model, example)),
        f"flavor {flavor.name}: the model loaded from its directory predicts differently",
    )


def _check_tampering_detected(flavor: Flavor, model: Any, example: Any, tmp: Path) -> None:
    path = tmp / "tampered"
    manifest, _ = save_dir(model, path, flavor=flavor)
    target = path / manifest.files[0].path
    target.write_bytes(target.read_bytes() + b"\0")
    try:
        read_manifest(path)
    except ArtifactCorrupted:
        return
    raise AssertionError(f"flavor {flavor.name}: a changed file was not detected")


def _check_wrong_flavor_refused(flavor: Flavor, model: Any, example: Any, tmp: Path) -> None:
    path = tmp / "wrong"
    save_dir(model, path, flavor=flavor)
    other = "pyfunc" if flavor.name != "pyfunc" else "sklearn"
    try:
        load_dir(path, trusted=True, flavor=other)
    except InvalidInput as exc:
        _expect(flavor.name in exc.message, "the error does not name the model's flavor")
        return
    raise AssertionError(f"flavor {flavor.name}: loading as {other} was not refused")


FLAVOR_CHECKS = (
    _check_interface,
    _check_save_load_predict,
    _check_manifest_round_trip,
    _check_tampering_detected,
    _check_wrong_flavor_refused,
)


def check_flavor(flavor: Flavor, model: Any, example: Any) -> None:
    """Run every check on ``flavor`` with a fitted ``model`` and an input ``example``;
    raise ``AssertionError`` naming the first that fails."""
    for check in FLAVOR_CHECKS:
        with tempfile.TemporaryDirectory(prefix="mw-flavor-") as tmp:
            check(flavor, model, example, Path(tmp))
