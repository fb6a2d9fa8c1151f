"""scikit-learn estimators and pipelines, saved with skops (no pickle)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, ClassVar

from modelwright.errors import PermissionDenied
from modelwright.registry.flavors._skops import recorded_estimators, skops_io, untrusted_types
from modelwright.registry.flavors._util import class_path, version_of

__all__ = ["SklearnFlavor"]

_FILE = "model.skops"


class SklearnFlavor:
    name: ClassVar[str] = "sklearn"
    pickle_based: ClassVar[bool] = False
    packages: ClassVar[tuple[str, ...]] = ("scikit-learn", "skops", "numpy", "scipy")

    def handles(self, model: Any) -> bool:
        return any(c.__module__.startswith("sklearn.") for c in type(model).__mro__)

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        sio = skops_io()
        file = path / _FILE
        sio.dump(model, file)
        # Types skops does not trust by default (a custom transformer, say): recorded here so
        # that loading refuses anything else, and needs the caller's trust for these.
        untrusted = untrusted_types(sio, file)
        # The scikit-learn classes skops trusts in this file: loading checks each of them
        # again and passes them to skops as trusted (see ``_skops``).
        estimators = sorted(t for t in _types_in(file) if t.startswith("sklearn."))
        return {
            "file": _FILE,
            "untrusted_types": untrusted,
            "estimators": [t for t in estimators if t not in untrusted],
        }

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        file = path / str(meta.get("file", _FILE))
        declared = [str(t) for t in meta.get("untrusted_types", [])]
        estimators = recorded_estimators(str(t) for t in meta.get("estimators", []))
        sio = skops_io()
        from skops.io.exceptions import UntrustedTypesFoundException

        try:
            # skops audits every type in the file against its defaults plus ``trusted``
            # before it creates any object.
            return sio.load(file, trusted=[*declared, *estimators])
        except UntrustedTypesFoundException:
            pass
        # Saved without the list, or by another scikit-learn: judge with skops's full defaults.
        unexpected = sorted(set(untrusted_types(sio, file)) - set(declared))
        if unexpected:
            raise PermissionDenied(
                f"model file {file.name} holds types its metadata does not declare: "
                f"{', '.join(unexpected)}; refusing to load it",
                details={"types": unexpected},
            )
        # Everything skops does not trust here is declared or a scikit-learn estimator.
        return sio.load(file, trusted=sio.get_untrusted_types(file=file))

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


def _types_in(file: Path) -> set[str]:
    """Every ``module.Class`` named in a skops file's schema."""
    with zipfile.ZipFile(file) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(cls, str):
                found.add(f"{module}.{cls}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
