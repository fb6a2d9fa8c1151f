"""Any Python function, or object with a ``predict`` method: pickled (cloudpickle if present)."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any, ClassVar

from modelwright.registry.flavors._util import class_path

__all__ = ["PyfuncFlavor"]

_FILE = "model.pkl"


class PyfuncFlavor:
    name: ClassVar[str] = "pyfunc"
    pickle_based: ClassVar[bool] = True
    packages: ClassVar[tuple[str, ...]] = ("cloudpickle",)

    def handles(self, model: Any) -> bool:
        return callable(getattr(model, "predict", None)) or callable(model)

    def save(self, model: Any, path: Path) -> dict[str, Any]:
        try:
            import cloudpickle

            # By value, so functions and classes defined in a notebook load elsewhere.
            data = cloudpickle.dumps(model)
            serializer = "cloudpickle"
        except ImportError:
            data = pickle.dumps(model)
            serializer = "pickle"
        (path / _FILE).write_bytes(data)
        return {
            "file": _FILE,
            "serializer": serializer,
            "python": ".".join(map(str, sys.version_info[:2])),
        }

    def load(self, path: Path, meta: dict[str, Any]) -> Any:
        # Callers reach this only for verified platform artifacts or with explicit trust.
        return pickle.loads((path / str(meta.get("file", _FILE))).read_bytes())  # noqa: S301

    def predict(self, model: Any, data: Any) -> Any:
        method = getattr(model, "predict", None)
        if callable(method):
            return method(data)
        return model(data)

    def describe(self, model: Any) -> dict[str, Any]:
        kind = "object" if callable(getattr(model, "predict", None)) else "function"
        return {"class": class_path(model), "kind": kind}
