"""Autologging for scikit-learn, as MLflow users know it from ``mlflow.sklearn.autolog()``.

On the outermost ``fit`` (``fit_transform``, ``fit_predict``) of an estimator: its params
(``get_params(deep=True)``, estimators by class name), training metrics computed with
``sklearn.metrics`` on the training data, the model with the signature of the training
input, and the content hash of the training data (see ``_datasets``). A parameter search (``GridSearchCV``,
``RandomizedSearchCV``) also logs its best candidates as child runs. A fit inside an active
run logs into it; otherwise a run is started before the fit and ended after it.
"""

from __future__ import annotations

import os
import re
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

from modelwright import _fluent
from modelwright.autologging._datasets import training_data_tags
from modelwright.autologging._metrics import training_metrics
from modelwright.autologging._patch import Hooks, patch, unpatch
from modelwright.autologging._search import is_search, log_search
from modelwright.client._tracking import ActiveRun
from modelwright.core.names import check_name
from modelwright.errors import InvalidInput
from modelwright.tracking.models import MAX_KEY, MAX_PARAM_VALUE
from modelwright.tracking.snapshot import take_snapshot

__all__ = ["autolog", "flat_params"]

_METHODS = ("fit", "fit_transform", "fit_predict")
# Data preparation, not models (as MLflow excludes them): logged only as a pipeline's steps.
# sklearn.metrics itself fits a LabelEncoder, which must not start runs.
_EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_EXCLUDED_CLASSES = {"ColumnTransformer"}
# The rows kept with the model as its input example (MLflow keeps five too).
_EXAMPLE_ROWS = 5


@dataclass
class _Config:
    log_models: bool = True
    log_datasets: bool = True
    max_tuning_runs: int | None = 5
    registered_model_name: str | None = None
    silent: bool = False


_config = _Config()


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    max_tuning_runs: int | None = 5,
    registered_model_name: str | None = None,
    silent: bool = False,
) -> None:
    """Turn autologging of scikit-learn on (off with ``disable=True``, which restores the
    original methods). ``log_models``: register the fitted model (as
    ``registered_model_name``, default the estimator's class name in kebab case, e.g.
    ``logistic-regression``); ``log_datasets``: record the training data as an input of the
    run; ``max_tuning_runs``: child runs for this many best candidates of a parameter search
    (``None``: all); ``silent``: no warnings when logging fails (it never fails the fit)."""
    if max_tuning_runs is not None and (
        isinstance(max_tuning_runs, bool)
        or not isinstance(max_tuning_runs, int)
        or max_tuning_runs < 0
    ):
        raise InvalidInput(
            f"max_tuning_runs: expected None or a whole number >= 0 (got {max_tuning_runs!r})",
            details={"field": "max_tuning_runs"},
        )
    if registered_model_name is not None:
        check_name(registered_model_name, "registered_model_name")
    unpatch()
    _context.clear()
    if disable:
        return
    _config.log_models = log_models
    _config.log_datasets = log_datasets
    _config.max_tuning_runs = max_tuning_runs
    _config.registered_model_name = registered_model_name
    _config.silent = silent
    from sklearn.utils import all_estimators

    hooks = Hooks(_before, _after, lambda: _config.silent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # estimators whose optional dependencies are missing
        estimators = all_estimators()
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    for cls in [c for _, c in estimators] + [GridSearchCV, RandomizedSearchCV]:
        if cls.__module__.startswith(_EXCLUDED_MODULES) or cls.__name__ in _EXCLUDED_CLASSES:
            continue
        for method in _METHODS:
            if hasattr(cls, method):
                patch(cls, method, hooks)


# -- one fit ----------------------------------------------------------------------------------
class _Fit:
    """The run of one outermost fit. A run started for the fit is started on a thread while
    the fit runs (the start takes a process snapshot and a transaction: tens of ms that the
    fit would otherwise wait for); ``run()`` waits for it."""

    def __init__(self, estimator: Any, x: Any, y: Any) -> None:
        self._run = _fluent.active_run()
        self.own = self._run is None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if self.own:
            self._thread = threading.Thread(
                target=self._start, args=(estimator, x, y), name="modelwright-autolog", daemon=True
            )
            self._thread.start()

    def _start(self, estimator: Any, x: Any, y: Any) -> None:
        try:
            run = _fluent.start_run(tags=_describe(estimator, x, y), **_run_context())
            self._run = run
            run.log_params(flat_params(estimator))  # buffered: sent with the metrics
        except BaseException as exc:  # raised by run(), in the fitting thread
            self._error = exc

    def run(self) -> ActiveRun:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error
        if self._run is None:  # not reached: _start sets one or the other
            raise RuntimeError("the autologging run did not start")
        return self._run


# A notebook fitting twenty models in a cell looks up where to log and takes the process's
# snapshot once, not twenty times: two lookups and git's three subprocesses over the work
# tree would cost every fit tens of ms.
_CONTEXT_TTL = 60.0


@dataclass
class _Context:
    client: Any  # held, so that another client is never taken for this one
    cwd: str
    taken: float
    start_run: dict[str, Any]


_context: list[_Context] = []


def _run_context() -> dict[str, Any]:
    """``start_run`` arguments: the workspace, environment and snapshot, looked up again after
    ``_CONTEXT_TTL`` s, for another client or in another working directory."""
    client = _fluent.get_client()
    cwd = os.getcwd()
    if _context:
        c = _context[0]
        if c.client is client and c.cwd == cwd and time.monotonic() - c.taken <= _CONTEXT_TTL:
            return c.start_run
    workspace = client.resolve_workspace(None)
    arguments = {
        "workspace": workspace,
        "environment": client.resolve_environment(workspace, None),
        "snapshot": take_snapshot(),
    }
    _context[:] = [_Context(client, cwd, time.monotonic(), arguments)]
    return arguments


def _xy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    x = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return x, y


def _before(estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Fit:
    return _Fit(estimator, *_xy(args, kwargs))


def _after(
    fit: _Fit,
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: BaseException | None,
) -> None:
    run = fit.run()
    if error is not None:
        if fit.own:
            run.end("failed", error=f"{type(error).__name__}: {error}"[:20_000])
        return
    x, y = _xy(args, kwargs)
    try:
        if not fit.own:
            run.set_tags(_describe(estimator, x, y))
            run.log_params(flat_params(estimator))
        _log_results(run, estimator, x, y, kwargs.get("sample_weight"))
        if not fit.own:
            run.flush()  # a refused param shows here, as a warning, not at the user's next call
    finally:
        if fit.own:
            run.end("finished")


def _describe(estimator: Any, x: Any, y: Any) -> dict[str, str]:
    cls = type(estimator)
    tags = {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
    }
    if _config.log_datasets and x is not None:
        tags |= training_data_tags(x, y)
    return tags


def _log_results(run: ActiveRun, estimator: Any, x: Any, y: Any, sample_weight: Any) -> None:
    metrics = training_metrics(estimator, x, y, sample_weight) if y is not None else {}
    model = estimator
    if is_search(estimator):
        run.log_params({f"best_{k}": v for k, v in flat_params(estimator.best_params_).items()})
        if getattr(estimator, "best_score_", None) is not None:
            metrics["best_cv_score"] = float(estimator.best_score_)
        model = getattr(estimator, "best_estimator_", None)
        log_search(run, estimator, _config.max_tuning_runs, flat_params)
    run.log_metrics(metrics)
    if _config.log_models and model is not None:
        name = _config.registered_model_name or _kebab(type(model).__name__)
        run.log_model(model, name, input_example=_head(x))


def _head(x: Any) -> Any:
    if x is None:
        return None
    head = getattr(x, "iloc", x)
    return head[:_EXAMPLE_ROWS]


def _kebab(name: str) -> str:
    # LogisticRegression -> logistic-regression, GridSearchCV -> grid-search-cv
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", name).lower()


# -- params -----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    from sklearn.base import BaseEstimator

    if isinstance(value, BaseEstimator):
        return type(value).__name__
    if isinstance(value, list | tuple):
        inner = ", ".join(
            _text(v) if isinstance(v, BaseEstimator | list | tuple) else repr(v) for v in value
        )
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return str(value)


def flat_params(source: Any) -> dict[str, str]:
    """``get_params(deep=True)`` (or a dict of params) as loggable strings: estimators by
    class name, keys and values truncated to the stored limits (as MLflow truncates)."""
    params = source.get_params(deep=True) if hasattr(source, "get_params") else dict(source)
    return {str(k)[:MAX_KEY]: _text(v)[:MAX_PARAM_VALUE] for k, v in params.items()}
