"""Drift methods: the ``DriftMethod`` protocol, the built-ins, and the registry of them by name.

Third-party methods are found through the entry point group ``modelwright.drift_methods``:
each entry point names a ``DriftMethod`` instance, or a class or factory called with no
argument that returns one. They are loaded the first time a name is not found among the
registered methods, or when every name is listed.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points

from modelwright.monitoring.errors import UnknownDriftMethod
from modelwright.monitoring.methods._base import Array, BaseMethod, DriftMethod
from modelwright.monitoring.methods._distances import (
    PSI,
    Hellinger,
    JensenShannon,
    KullbackLeibler,
    Wasserstein,
    wasserstein_1d,
)
from modelwright.monitoring.methods._tests import (
    AndersonDarling,
    ChiSquare,
    KolmogorovSmirnov,
    ZTest,
)

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "PSI",
    "AndersonDarling",
    "Array",
    "BaseMethod",
    "ChiSquare",
    "DriftMethod",
    "Hellinger",
    "JensenShannon",
    "KolmogorovSmirnov",
    "KullbackLeibler",
    "Wasserstein",
    "ZTest",
    "get_method",
    "method_names",
    "register_method",
    "wasserstein_1d",
]

ENTRY_POINT_GROUP = "modelwright.drift_methods"

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_methods: dict[str, DriftMethod] = {}
_entry_points_loaded = False

KS = KolmogorovSmirnov()
CHISQUARE = ChiSquare()
Z = ZTest()
WASSERSTEIN = Wasserstein()
JENSENSHANNON = JensenShannon()

BUILTINS: tuple[DriftMethod, ...] = (
    KS,
    CHISQUARE,
    Z,
    AndersonDarling(),
    WASSERSTEIN,
    Wasserstein(name="wasserstein_raw", label="Wasserstein distance", normalize=False),
    Wasserstein(
        name="wasserstein_ddof1", label="Wasserstein distance (normed, sample std)", ddof=1
    ),
    JENSENSHANNON,
    JensenShannon(name="jensenshannon_base2", label="Jensen-Shannon distance (base 2)", base=2),
    PSI(),
    KullbackLeibler(),
    Hellinger(),
)


def register_method(method: DriftMethod, *, replace: bool = False) -> DriftMethod:
    """Make ``method`` usable by name in ``drift(method=...)``; returns it (usable as a decorator
    on an instance factory's result). A taken name is an error unless ``replace``."""
    if isinstance(method, type) or not isinstance(method, DriftMethod):
        raise TypeError(f"{method!r} does not implement the DriftMethod protocol")
    with _lock:
        if not replace and method.name in _methods and _methods[method.name] is not method:
            raise ValueError(f"a drift method named {method.name!r} is already registered")
        _methods[method.name] = method
    return method


def _load_entry_points() -> None:
    global _entry_points_loaded  # noqa: PLW0603 - loaded once per process, under the lock
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        found = list(entry_points(group=ENTRY_POINT_GROUP))
    for point in found:
        try:
            loaded = point.load()
            # A class also "has" the protocol's attributes: instantiate classes and factories.
            is_instance = isinstance(loaded, DriftMethod) and not isinstance(loaded, type)
            method = loaded if is_instance else loaded()
            register_method(method, replace=False)
        except Exception:
            # One broken plug-in must not take the built-ins down with it.
            _log.exception("drift method entry point %r could not be registered", point.name)


def get_method(name: str) -> DriftMethod:
    """The method registered under ``name`` (built-in, registered, or from an entry point)."""
    method = _methods.get(name)
    if method is None:
        _load_entry_points()
        method = _methods.get(name)
    if method is None:
        raise UnknownDriftMethod(
            f"no drift method named {name!r}; known: {', '.join(method_names())}",
            details={"method": name},
        )
    return method


def method_names() -> list[str]:
    _load_entry_points()
    return sorted(_methods)


for _builtin in BUILTINS:
    register_method(_builtin)
