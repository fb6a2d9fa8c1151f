"""The flavor interface: how a kind of model is saved, loaded, described and asked to predict."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

__all__ = ["Flavor"]


@runtime_checkable
class Flavor(Protocol):
    """A plug-in point of the registry (``register_flavor``, or the entry point group
    ``modelwright.flavors``); ``modelwright.testing.check_flavor`` checks one.

    ``save`` writes the model's files into an empty directory and returns the metadata
    ``load`` needs back (JSON-ready). ``load`` is only ever given files whose hashes were
    checked. ``pickle_based`` flavors run code when loading: the registry loads them only from
    its own verified artifacts, or when the caller opts in explicitly.

    A flavor may also declare ``methods`` (a tuple of ``signature.METHODS``): the prediction
    methods its loaded models answer, when the saved object offers more than its loaded form
    does. Without it, whichever of ``predict_proba`` and ``decision_function`` the object has.
    """

    name: ClassVar[str]
    pickle_based: ClassVar[bool]
    # Distributions a saved model needs at load time (pinned from the run's package lock).
    packages: ClassVar[tuple[str, ...]]

    def handles(self, model: Any) -> bool:
        """Whether this flavor knows how to save ``model`` (cheap: never imports a library)."""
        ...

    def save(self, model: Any, path: Path) -> dict[str, Any]: ...

    def load(self, path: Path, meta: dict[str, Any]) -> Any: ...

    def predict(self, model: Any, data: Any) -> Any: ...

    def describe(self, model: Any) -> dict[str, Any]:
        """A short JSON-ready description: class, parameters, library version."""
        ...
