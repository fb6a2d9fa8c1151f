"""Drift methods: the ``DriftMethod`` protocol, the built-ins, and the registry of them by name.

Third-party methods are found through the entry point group ``modelwright.drift_methods``:
each entry point names a ``DriftMethod`` instance, or a class or factory called with no
argument that returns one. They are loaded the first time a name is not found among the
registered methods, or when every name is listed.
"""

from __future__ import annotations

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
from modelwright.plugins import PluginRegistry

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "PSI",
    "REGISTRY",
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

REGISTRY: PluginRegistry[DriftMethod] = PluginRegistry(
    DriftMethod, ENTRY_POINT_GROUP, kind="drift method"
)

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
    return REGISTRY.register(method, replace=replace)


def get_method(name: str) -> DriftMethod:
    """The method registered under ``name`` (built-in, registered, or from an entry point)."""
    method = REGISTRY.get(name)
    if method is None:
        raise UnknownDriftMethod(
            f"no drift method named {name!r}; known: {', '.join(method_names())}",
            details={"method": name},
        )
    return method


def method_names() -> list[str]:
    return REGISTRY.names()


for _builtin in BUILTINS:
    register_method(_builtin)
