"""Any Python function, or object with a ``predict`` method: pickled (cloudpickle if present).

Loading a pickle runs code from the file. An object that merely wraps a scikit-learn
estimator is refused here unless the caller allows pickle (``refuse_wrapped_estimator``): the
estimator alone is stored with skops, which runs none.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any, ClassVar

from modelwright.errors import InvalidInput
from modelwright.registry.flavors._util import class_path

__all__ = ["PyfuncFlavor", "refuse_wrapped_estimator", "wrapped_estimator"]

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
        # Said where the version is shown: loading it runs code from the file.
        return {"class": class_path(model), "kind": kind, "storage": "pickle"}


def _is_estimator(value: Any) -> bool:
    return any(c.__module__.startswith("sklearn.") for c in type(value).__mro__)


def wrapped_estimator(model: Any) -> str | None:
    """Where ``model`` holds a scikit-learn estimator: an attribute (``clf``), a variable a
    function closes over, or the object of a bound method (``clf.predict``); None if it holds
    none (one level deep: what a wrapper does)."""
    fields: dict[str, Any] = {"__self__": getattr(model, "__self__", None)}  # a bound method
    with_dict = getattr(model, "__dict__", None)
    if isinstance(with_dict, dict) and not callable(getattr(model, "__code__", None)):
        fields.update(with_dict)
    code, cells = getattr(model, "__code__", None), getattr(model, "__closure__", None)
    if code is not None and cells:
        for name, cell in zip(code.co_freevars, cells, strict=False):
            try:
                fields[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
    for name, value in fields.items():
        values = value.values() if isinstance(value, dict) else value
        items = list(values) if isinstance(values, list | tuple) else [values]
        if any(_is_estimator(v) for v in items):
            return name
    return None


def refuse_wrapped_estimator(model: Any, flavor: str) -> None:
    """``InvalidInput`` if ``model`` wraps a scikit-learn estimator: it would be pickled,
    and loading it would run code from the file, where the estimator alone needs none."""
    where = wrapped_estimator(model)
    if where is None:
        return
    raise InvalidInput(
        f"model: this {type(model).__qualname__} wraps a scikit-learn estimator (in {where!r}), "
        f"so it would be stored as a pickle (the {flavor} flavor), and loading a pickle runs "
        "code from the file. Log the estimator itself (stored with skops, no pickle; a "
        "scikit-learn Pipeline can hold the preprocessing), or pass allow_pickle=True to "
        "store this object pickled.",
        details={"field": "model", "storage": "pickle", "wraps": where},
    )
