"""Autologging: ``mw.autolog()`` turns it on for every supported library that is installed
(today scikit-learn; ``mw.sklearn.autolog()`` for that one alone). Off until called."""

from __future__ import annotations

import importlib.util
from typing import TypedDict, Unpack

__all__ = ["AutologSettings", "autolog"]


class AutologSettings(TypedDict, total=False):
    """The arguments of every library's ``autolog`` (see ``modelwright.autologging.sklearn``)."""

    disable: bool
    log_models: bool
    log_datasets: bool
    max_tuning_runs: int | None
    registered_model_name: str | None
    silent: bool


def autolog(**settings: Unpack[AutologSettings]) -> None:
    """Log params, training metrics, the model and the training data of every ``fit`` of a
    supported library; ``disable=True`` turns it off and restores the original methods.
    See ``modelwright.autologging.sklearn.autolog`` for the arguments."""
    if importlib.util.find_spec("sklearn") is None:
        return  # as MLflow's: libraries that are not installed are skipped
    from modelwright.autologging.sklearn import autolog as sklearn_autolog

    sklearn_autolog(**settings)
