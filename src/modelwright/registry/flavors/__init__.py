"""Built-in flavors, found by name or by the model they handle.

Each flavor imports its library only when it saves, loads or predicts, so the optional ones
(xgboost, lightgbm, torch) cost nothing unless used.
"""

from __future__ import annotations

from typing import Any

from modelwright.errors import InvalidInput
from modelwright.registry.flavors.base import Flavor
from modelwright.registry.flavors.lightgbm import LightGBMFlavor
from modelwright.registry.flavors.pyfunc import PyfuncFlavor
from modelwright.registry.flavors.sklearn import SklearnFlavor
from modelwright.registry.flavors.torch import TorchFlavor
from modelwright.registry.flavors.xgboost import XGBoostFlavor

__all__ = ["FLAVORS", "Flavor", "flavor_for", "get_flavor", "requires_trust"]

# Most specific first: the boosters' scikit-learn wrappers are also scikit-learn estimators,
# and anything with a ``predict`` is a pyfunc.
FLAVORS: dict[str, Flavor] = {
    f.name: f
    for f in (XGBoostFlavor(), LightGBMFlavor(), TorchFlavor(), SklearnFlavor(), PyfuncFlavor())
}


def get_flavor(name: str) -> Flavor:
    try:
        return FLAVORS[name]
    except KeyError:
        raise InvalidInput(
            f"flavor: unknown flavor {name!r} (known: {', '.join(FLAVORS)})",
            details={"field": "flavor", "value": name},
        ) from None


def flavor_for(model: Any) -> Flavor:
    for flavor in FLAVORS.values():
        if flavor.handles(model):
            return flavor
    raise InvalidInput(
        f"model: no flavor handles a {type(model).__qualname__} (it needs a predict method, or "
        "to be callable)",
        details={"field": "model"},
    )


def requires_trust(flavor: Flavor, meta: dict[str, Any]) -> bool:
    """Whether loading runs code from the artifact: pickles, or types skops does not trust."""
    return flavor.pickle_based or bool(meta.get("untrusted_types"))
