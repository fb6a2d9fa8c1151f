"""Autologging: ``mw.autolog()`` turns it on for every supported library that is installed
(today scikit-learn; ``mw.sklearn.autolog()`` for that one alone). Off until called."""

from __future__ import annotations

import importlib.util

__all__ = ["autolog"]


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    max_tuning_runs: int | None = 5,
    registered_model_name: str | None = None,
    silent: bool = False,
) -> None:
    """Log params, training metrics, the model and the training data of every ``fit`` of a
    supported library; ``disable=True`` turns it off and restores the original methods.
    See ``modelwright.autologging.sklearn.autolog``."""
    if importlib.util.find_spec("sklearn") is None:
        return  # as MLflow's: libraries that are not installed are skipped
    from modelwright.autologging.sklearn import autolog as sklearn_autolog

    sklearn_autolog(
        disable=disable,
        log_models=log_models,
        log_datasets=log_datasets,
        max_tuning_runs=max_tuning_runs,
        registered_model_name=registered_model_name,
        silent=silent,
    )
