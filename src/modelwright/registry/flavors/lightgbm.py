"""LightGBM boosters and their scikit-learn wrappers, in LightGBM's text model format.

A scikit-learn wrapper comes back as its ``Booster``: for classifiers ``predict`` then gives
probabilities, as ``predict_proba`` of the wrapper did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from modelwright.registry.flavors._util import class_path, version_of

__all__ = ["LightGBMFlavor"]

_FILE = "model.txt"


class LightGBMFlavor:
    name: ClassVar[str] = "lightgbm"
    pickle_based: ClassVar[bool] = False
    packages: ClassVar[tuple[str, ...]] = ("lightgbm", "numpy", "scipy")
    # Loaded back as a Booster, which has predict alone (probabilities, for a classifier).
    methods: ClassVar[tuple[str, ...]] = ("predict",)

    def handles(self, model: Any) -> bool:
        return any(c.__module__.startswith("lightgbm.") for c in type(model).__mro__)

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        booster = getattr(model, "booster_", model)
        booster.save_model(str(path / _FILE))
        return {"file": _FILE, "class": type(model).__name__}

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import lightgbm

        return lightgbm.Booster(model_file=str(path / str(meta.get("file", _FILE))))

    def predict(self, model: Any, data: Any) -> Any:
        return model.predict(data)

    def describe(self, model: Any) -> dict[str, Any]:
        return {
            "class": class_path(model),
            "library": "lightgbm",
            "library_version": version_of("lightgbm"),
        }
