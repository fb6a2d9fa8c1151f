"""skops, imported fast for loading, and the scikit-learn estimators skops trusts.

``import skops.io`` builds skops's default-trusted types at import time: for scikit-learn's
estimators it calls ``sklearn.utils.all_estimators()``, which imports every module of
scikit-learn (and pytest, through its testing utilities), and it looks up the module of each
of scipy's ufuncs across every loaded module. Measured on the pipeline model of
``bench/bench_registry.py`` (a fresh process that has imported the model's scikit-learn
modules; skops 0.16.0, scikit-learn 1.9.1, two shared cores; median of 6): a plain ``import
skops.io`` takes 0.49 s, 0.24 s with the estimator discovery skipped, and 0.12 s with the
faster ``_whichmodule`` below as well, in a cold load of about 2 s. So ``skops_io`` imports it
that way; nothing else here is hand-written. Saving pays for the discovery either way
(``untrusted_types``), and was no slower this way (1.0 s against 1.5 s, the machine busy).

Skipping the discovery leaves skops's default list without scikit-learn's estimators: stricter
than skops's own, never looser, and the list is never edited. Trust is decided by the caller
through skops's public API: ``get_untrusted_types`` and an explicit ``trusted=`` list given
to ``load``. A process that imports ``skops.io`` itself after modelwright did gets the same
stricter defaults.
"""

from __future__ import annotations

import functools
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
from typing import Any, ClassVar

__all__ = ["recorded_estimators", "scikit_learn_estimators", "skops_io", "untrusted_types"]

_lock = threading.Lock()
# As in ``sklearn.utils.discovery``: modules ``all_estimators`` never looks into.
_IGNORED_MODULES = frozenset(
    {"tests", "externals", "setup", "conftest", "experimental", "estimator_checks"}
)
_TYPE_NAME = re.compile(r"sklearn(\.[A-Za-z_][A-Za-z0-9_]*)+")


def skops_io() -> ModuleType:
    """``skops.io``, imported once without scikit-learn's estimator discovery (see above)."""
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
    return sys.modules["skops.io"]


@functools.cache
def scikit_learn_estimators() -> frozenset[str]:
    """The scikit-learn estimators a plain ``import skops.io`` trusts by default. Slow: it
    imports all of scikit-learn."""
    from sklearn.utils import all_estimators

    names = (f"{cls.__module__}.{cls.__name__}" for _, cls in all_estimators())
    return frozenset(n for n in names if n.startswith("sklearn."))


def untrusted_types(sio: ModuleType, file: Any) -> list[str]:
    """The types in ``file`` that skops's full defaults do not trust: what
    ``get_untrusted_types`` answers after a plain ``import skops.io``."""
    found: list[str] = sio.get_untrusted_types(file=file)
    if any(t.startswith("sklearn.") for t in found):
        found = [t for t in found if t not in scikit_learn_estimators()]
    return sorted(found)


def recorded_estimators(names: Iterable[str]) -> list[str]:
    """The names that are public scikit-learn estimators (``_public``), which a saved model's
    metadata lists so that loading it needs no ``scikit_learn_estimators()``."""
    return [n for n in dict.fromkeys(names) if _public(n)]


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
        _TypeIndex._cache.clear()
        if self.module is not None and self.original is not None:
            self.module.whichmodule = self.original  # type: ignore[attr-defined]


def _whichmodule(obj: Any, name: str) -> str:
    """skops's ``whichmodule`` (the first loaded module that holds ``obj`` as ``name``), with
    the same answer, faster. skops asks this at import for each of scipy's few hundred ufuncs,
    and the plain answer reads every loaded module (a couple of thousand) each time; here one
    pass over the modules' namespaces per type of object (``_TypeIndex``) answers them all.
    It is in use only while skops imports (see ``_FastWhichModule``), when no module changes
    between two questions; a change in ``sys.modules`` makes a new index all the same."""
    module_name = getattr(obj, "__module__", None)
    if module_name is not None:
        return str(module_name)
    if "." in name or hasattr(ModuleType, name):
        return _scan(obj, name)
    modules = list(sys.modules.items())
    index = _TypeIndex.of(type(obj), modules)
    hit = index.found.get((id(obj), name))
    first = hit[0] if hit is not None else len(modules)
    # Modules whose attributes cannot be listed (a module ``__getattr__``, a module subclass)
    # are asked directly, if they come before the module the index found.
    for position, special_name, module in index.special:
        if position >= first:
            break
        if _attribute(module, name) is obj:
            return special_name
    return hit[1] if hit is not None else "__main__"


class _TypeIndex:
    """For one type: where each value of that type sits, first in ``sys.modules`` order."""

    _cache: ClassVar[dict[type, _TypeIndex]] = {}  # emptied by ``_FastWhichModule.restore``

    def __init__(self, kind: type, modules: list[tuple[str, Any]]) -> None:
        self.key = (len(modules), modules[-1][0] if modules else "")
        self.found: dict[tuple[int, str], tuple[int, str]] = {}
        self.special: list[tuple[int, str, Any]] = []
        for position, (module_name, module) in enumerate(modules):
            if module_name in ("__main__", "__mp_main__") or module is None:
                continue
            namespace = getattr(module, "__dict__", None) if type(module) is ModuleType else None
            if namespace is None or "__getattr__" in namespace:
                self.special.append((position, module_name, module))
                continue
            for attr, value in namespace.items():
                if type(value) is kind:
                    self.found.setdefault((id(value), attr), (position, module_name))

    @classmethod
    def of(cls, kind: type, modules: list[tuple[str, Any]]) -> _TypeIndex:
        index = cls._cache.get(kind)
        if index is None or index.key != (len(modules), modules[-1][0] if modules else ""):
            index = cls._cache[kind] = cls(kind, modules)
        return index


def _attribute(module: Any, name: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return _getattribute(module, name)
        except (AttributeError, ImportError):
            return None


def _scan(obj: Any, name: str) -> str:
    """The plain answer: every loaded module in turn (dotted names, rare)."""
    for module_name, module in list(sys.modules.items()):
        if module_name in ("__main__", "__mp_main__") or module is None:
            continue
        if _attribute(module, name) is obj:
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
