"""scikit-learn estimators and pipelines, saved with skops (no pickle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from modelwright.errors import PermissionDenied
from modelwright.registry.flavors._util import class_path, version_of

__all__ = ["SklearnFlavor"]

_FILE = "model.skops"
# Types from these packages are data and estimators, never arbitrary code to run on load.
_SAFE_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


class SklearnFlavor:
    name: ClassVar[str] = "sklearn"
    pickle_based: ClassVar[bool] = False
    packages: ClassVar[tuple[str, ...]] = ("scikit-learn", "skops", "numpy", "scipy")

    def handles(self, model: Any) -> bool:
        return any(c.__module__.startswith("sklearn.") for c in type(model).__mro__)

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        import skops.io as sio

        sio.dump(model, path / _FILE)
        # Types skops does not trust by default (a custom transformer, say): recorded here so
        # that loading can refuse anything else, and needs the caller's trust for these.
        untrusted = sorted(sio.get_untrusted_types(file=path / _FILE))
        return {"file": _FILE, "untrusted_types": untrusted}

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        import skops.io as sio

        file = path / str(meta.get("file", _FILE))
        found = set(sio.get_untrusted_types(file=file))
        allowed = set(meta.get("untrusted_types", []))
        unexpected = sorted(t for t in found - allowed if not t.startswith(_SAFE_PREFIXES))
        if unexpected:
            raise PermissionDenied(
                f"model file {file.name} holds types its metadata does not declare: "
                f"{', '.join(unexpected)}; refusing to load it",
                details={"types": unexpected},
            )
        return sio.load(file, trusted=sorted(found))

    def predict(self, model: Any, data: Any) -> Any:
        return model.predict(data)

    def describe(self, model: Any) -> dict[str, Any]:
        params: dict[str, str] = {}
        get_params = getattr(model, "get_params", None)
        if callable(get_params):
            params = {k: repr(v)[:200] for k, v in get_params(deep=False).items()}
        return {
            "class": class_path(model),
            "params": params,
            "library": "scikit-learn",
            "library_version": version_of("scikit-learn"),
        }
