"""Flavors, found by name or by the model they handle.

Besides the built-ins, a flavor may be registered in process (``register_flavor``) or offered
by a package through the entry point group ``modelwright.flavors``: each entry point names a
``Flavor`` instance, or a class or factory called with no argument that returns one. Entry
points are loaded the first time a name is not found, and before a model's flavor is chosen.

Each built-in flavor imports its library only when it saves, loads or predicts, so the
optional ones (xgboost, lightgbm, torch) cost nothing unless used.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from modelwright.errors import InvalidInput
from modelwright.plugins import PluginRegistry
from modelwright.registry.flavors.base import Flavor
from modelwright.registry.flavors.lightgbm import LightGBMFlavor
from modelwright.registry.flavors.pyfunc import PyfuncFlavor
from modelwright.registry.flavors.sklearn import SklearnFlavor
from modelwright.registry.flavors.torch import TorchFlavor
from modelwright.registry.flavors.xgboost import XGBoostFlavor

__all__ = [
    "ENTRY_POINT_GROUP",
    "FLAVORS",
    "REGISTRY",
    "Flavor",
    "flavor_for",
    "flavor_names",
    "get_flavor",
    "register_flavor",
    "requires_trust",
    "untrusted_types",
]

ENTRY_POINT_GROUP = "modelwright.flavors"

REGISTRY: PluginRegistry[Flavor] = PluginRegistry(Flavor, ENTRY_POINT_GROUP, kind="flavor")

# The built-ins, most specific first: the boosters' scikit-learn wrappers are also
# scikit-learn estimators, and anything with a ``predict`` is a pyfunc.
FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (XGBoostFlavor(), LightGBMFlavor(), TorchFlavor(), SklearnFlavor(), PyfuncFlavor())
}


def register_flavor(flavor: Flavor, *, replace: bool = False) -> Flavor:
    """Make ``flavor`` usable by name; a taken name is an error unless ``replace``."""
    return REGISTRY.register(flavor, replace=replace)


def flavor_names() -> list[str]:
    return REGISTRY.names()


def get_flavor(name: str) -> Flavor:
    found = REGISTRY.get(name)
    if found is None:
        raise InvalidInput(
            f"flavor: unknown flavor {name!r} (known: {', '.join(flavor_names())})",
            details={"field": "flavor", "value": name},
        )
    return found


def flavor_for(model: Any) -> Flavor:
    """The first flavor that handles ``model``: added ones before the built-ins, since they
    are the specific ones (a library's wrapper has a ``predict``, so pyfunc would take it)."""
    REGISTRY.load_entry_points()
    registered = dict(REGISTRY.items)
    added = [f for name, f in registered.items() if name not in FLAVORS]
    builtins = [registered[name] for name in FLAVORS if name in registered]
    for flavor in (*added, *builtins):
        if flavor.handles(model):
            return flavor
    raise InvalidInput(
        f"model: no flavor handles a {type(model).__qualname__} (it needs a predict method, or "
        "to be callable)",
        details={"field": "model"},
    )


def requires_trust(
    flavor: Flavor, meta: dict[str, Any], trusted_types: Collection[str] = ()
) -> bool:
    """Whether loading needs the caller's trust: a pickle runs code from the artifact; skops
    constructs the types it does not trust by default, unless all are in ``trusted_types``
    (the names a caller vouches for, as a packaged server's ``--trust-types`` does)."""
    return flavor.pickle_based or not set(untrusted_types(meta)) <= set(trusted_types)


def untrusted_types(meta: dict[str, Any]) -> list[str]:
    """The types a model's metadata declares that skops does not trust by default."""
    return [str(t) for t in meta.get("untrusted_types") or ()]


for _builtin in FLAVORS.values():
    register_flavor(_builtin)
