"""XGBoost boosters and their scikit-learn wrappers, in XGBoost's own UBJSON format."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from modelwright.errors import InvalidInput
from modelwright.registry.flavors._util import class_path, version_of

__all__ = ["XGBoostFlavor"]

_FILE = "model.ubj"
_CLASSES = (
    "Booster",
    "XGBClassifier",
    "XGBRegressor",
    "XGBRanker",
    "XGBRFClassifier",
    "XGBRFRegressor",
)


class XGBoostFlavor:
    name: ClassVar[str] = "xgboost"
    pickle_based: ClassVar[bool] = False
    packages: ClassVar[tuple[str, ...]] = ("xgboost", "numpy", "scipy")

    def handles(self, model: Any) -> bool:
        return any(c.__module__.startswith("xgboost.") for c in type(model).__mro__)

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        cls = type(model).__name__
        if cls not in _CLASSES:
            raise InvalidInput(
                f"model: xgboost class {cls} is not supported (one of {', '.join(_CLASSES)})"
            )
        model.save_model(str(path / _FILE))
        return {"file": _FILE, "class": cls}

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import xgboost

        cls = str(meta.get("class", "Booster"))
        if cls not in _CLASSES:
            raise InvalidInput(f"xgboost class {cls!r} in the model metadata is not supported")
        model = getattr(xgboost, cls)()
        model.load_model(str(path / str(meta.get("file", _FILE))))
        return model

    def predict(self, model: Any, data: Any) -> Any:
        import xgboost

        if isinstance(model, xgboost.Booster):
            return model.predict(xgboost.DMatrix(data))
        return model.predict(data)

    def describe(self, model: Any) -> dict[str, Any]:
        return {
            "class": class_path(model),
            "library": "xgboost",
            "library_version": version_of("xgboost"),
        }
