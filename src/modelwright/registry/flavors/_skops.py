"""skops, imported for loading without importing all of scikit-learn first.

``import skops.io`` builds skops's default-trusted types at import time, and for the
scikit-learn estimators it calls ``sklearn.utils.all_estimators()``, which imports every
module of scikit-learn (and pytest, through its testing utilities): most of the time a cold
load spends. To load a model only its own estimator classes are needed, and the flavor records
them in the model's metadata at save time. So loading imports skops with that discovery
skipped (the estimator list starts empty: stricter than skops's, never looser), then adds to it
only the recorded names that check out as real public scikit-learn estimators, the same test
``all_estimators`` applies. Anything else in the file still has to pass skops's audit.
The same import also looks up the module of each of scipy's ufuncs across every loaded module;
``_whichmodule`` gives skops the same answers at a fraction of the cost.

Saving, and any load that the short list refuses, first completes the list with the real
``all_estimators()``, so skops's own defaults hold exactly from then on in the process.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import itertools
import re
import sys
import threading
import warnings
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

__all__ = ["complete_defaults", "skops_io"]

_lock = threading.Lock()
_state = {"partial": False}
# As in ``sklearn.utils.discovery``: modules ``all_estimators`` never looks into.
_IGNORED_MODULES = frozenset(
    {"tests", "externals", "setup", "conftest", "experimental", "estimator_checks"}
)
_TYPE_NAME = re.compile(r"sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _estimator_names() -> Any:
    # skops's module-level list: its nodes read it on every load (``default=...``), so
    # adding to it in place is seen by every later load.
    return sys.modules["skops.io._trusted_types"].SKLEARN_ESTIMATOR_TYPE_NAMES


def skops_io(estimators: Iterable[str] = ()) -> ModuleType:
    """``skops.io``, with the recorded ``estimators`` trusted if they are public scikit-learn
    estimators (the rest of skops's defaults as skops computes them)."""
    with _lock:
        if "skops.io" not in sys.modules:
            import sklearn.utils

            discover = sklearn.utils.all_estimators
            sklearn.utils.all_estimators = lambda type_filter=None: []
            finder = _FastWhichModule()
            sys.meta_path.insert(0, finder)
            try:
                importlib.import_module("skops.io")
            finally:
                sklearn.utils.all_estimators = discover
                sys.meta_path.remove(finder)
                finder.restore()
            _state["partial"] = True
        if _state["partial"]:
            names = _estimator_names()
            known = set(names)
            names.extend(n for n in dict.fromkeys(estimators) if n not in known and _public(n))
    return sys.modules["skops.io"]


def complete_defaults() -> ModuleType:
    """``skops.io`` with skops's full default-trusted types, as a plain import gives."""
    sio = skops_io()
    with _lock:
        if _state["partial"]:
            from sklearn.utils import all_estimators

            names = _estimator_names()
            known = set(names)
            for _, cls in all_estimators():
                name = f"{cls.__module__}.{cls.__name__}"
                if name.startswith("sklearn.") and name not in known:
                    names.append(name)
                    known.add(name)
            _state["partial"] = False
    return sio


class _FastWhichModule(importlib.abc.MetaPathFinder):
    """Loads ``skops.io._utils`` as usual, then gives it ``_whichmodule`` below until
    ``restore``: while skops builds its defaults, which is the only heavy use."""

    def __init__(self) -> None:
        self.module: ModuleType | None = None
        self.original: Any = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "skops.io._utils":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        loader = None if spec is None else spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            self.module, self.original = module, getattr(module, "whichmodule", None)
            if self.original is not None:
                module.whichmodule = _whichmodule  # type: ignore[attr-defined]

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec

    def restore(self) -> None:
        if self.module is not None and self.original is not None:
            self.module.whichmodule = self.original  # type: ignore[attr-defined]


def _whichmodule(obj: Any, name: str) -> str:
    """skops's ``whichmodule`` (the first loaded module that holds ``obj`` as ``name``), with
    the same answer, faster: an ordinary module's attribute is read from its ``__dict__``
    instead of by ``getattr``, which costs an exception for every module that lacks it. skops
    asks this at import for each of scipy's few hundred ufuncs, across every loaded module."""
    module_name = getattr(obj, "__module__", None)
    if module_name is not None:
        return str(module_name)
    plain_name = "." not in name and not hasattr(ModuleType, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for module_name, module in sys.modules.copy().items():
            if module_name in ("__main__", "__mp_main__") or module is None:
                continue
            namespace = getattr(module, "__dict__", None) if type(module) is ModuleType else None
            if plain_name and namespace is not None and "__getattr__" not in namespace:
                found = namespace.get(name)
            else:
                try:
                    found = _getattribute(module, name)
                except (AttributeError, ImportError):
                    continue
            if found is obj:
                return str(module_name)
    return "__main__"


def _getattribute(obj: Any, name: str) -> Any:
    for part in name.split("."):
        if part == "<locals>":
            raise AttributeError(f"Can't get local attribute {name!r} on {obj!r}")
        obj = getattr(obj, part)
    return obj


def _public(name: str) -> bool:
    """Whether ``name`` is a class ``all_estimators()`` lists: a concrete ``BaseEstimator``
    with a public name, exposed by a public module of scikit-learn."""
    if not _TYPE_NAME.fullmatch(name):
        return False
    module, _, cls_name = name.rpartition(".")
    parts = module.split(".")
    if cls_name.startswith("_") or cls_name == "BaseEstimator" or _IGNORED_MODULES & set(parts):
        return False
    public = ".".join(itertools.takewhile(lambda p: not p.startswith("_"), parts))
    try:
        cls: object = getattr(importlib.import_module(module), cls_name, None)
        exposed = getattr(importlib.import_module(public), cls_name, None)
    except ImportError:
        return False
    if cls is not exposed or not isinstance(cls, type):
        return False
    from sklearn.base import BaseEstimator

    return (
        issubclass(cls, BaseEstimator)
        and not getattr(cls, "__abstractmethods__", None)
        and f"{cls.__module__}.{cls.__name__}" == name
    )
