"""The module-level API data scientists know from MLflow: ``mw.start_run()``, ``mw.log_metric()``.

A default client is connected on first use from ``MODELWRIGHT_URL``/``MODELWRIGHT_TOKEN`` (a
server) or ``MODELWRIGHT_HOME`` (embedded, default ``./.modelwright``); ``set_platform()``
points it elsewhere. Runs started here nest: the innermost open run is the active one.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwright.errors import Conflict

if TYPE_CHECKING:
    import pandas as pd

    from modelwright.client import Client
    from modelwright.client._data import LoadAs, Progress
    from modelwright.client._tracking import ActiveRun
    from modelwright.data.models import DatasetVersionInfo
    from modelwright.registry.models import ModelVersionInfo
    from modelwright.registry.predict import LoadedModel
    from modelwright.tracking.models import ArtifactFile

__all__ = [
    "active_run",
    "end_run",
    "flush",
    "forget",
    "get_client",
    "load_dataset",
    "load_model",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "register_dataset",
    "set_platform",
    "set_tag",
    "set_tags",
    "start_run",
]


class _State:
    client: Client | None = None


_lock = threading.Lock()
_state = _State()
_stack: list[ActiveRun] = []


def set_platform(
    target: str | Path | None = None,
    *,
    token: str | None = None,
    environment: str | None = None,
) -> Client:
    """Use this platform (a home directory or a server URL) for the module-level API, acting
    in ``environment`` (default: ``MODELWRIGHT_ENVIRONMENT``; production data is readable
    only from a production environment)."""
    from modelwright.client import connect

    with _lock:
        if _state.client is not None:
            _state.client.close()
        _state.client = connect(target, token=token, environment=environment)
        return _state.client


def get_client() -> Client:
    with _lock:
        if _state.client is None:
            from modelwright.client import connect
            from modelwright.settings import client_settings

            settings = client_settings()
            _state.client = (
                connect(settings.url, token=settings.token) if settings.url else connect()
            )
        return _state.client


def start_run(
    experiment: str = "default",
    *,
    workspace: str | None = None,
    environment: str | None = None,
    name: str = "",
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
) -> ActiveRun:
    """Start a run and make it the active one; use as ``with mw.start_run(...) as run:``."""
    if _stack and not nested:
        raise Conflict(
            f"run {_stack[-1].id} is still active: end it first, or pass nested=True "
            "to start a child run",
            details={"run_id": _stack[-1].id},
        )
    parent = _stack[-1] if _stack else None
    run = get_client().start_run(
        experiment,
        workspace=workspace or (parent.workspace if parent else None),
        environment=environment or (parent.environment if parent else None),
        name=name,
        tags=tags,
        parent_id=parent.id if parent else None,
    )
    run.on_end.append(forget)
    _stack.append(run)
    return run


def active_run() -> ActiveRun | None:
    return _stack[-1] if _stack else None


def _active() -> ActiveRun:
    if not _stack:
        # Like MLflow: logging without a run starts one.
        return start_run()
    return _stack[-1]


def forget(run: ActiveRun) -> None:
    if run in _stack:
        _stack.remove(run)


def end_run(status: str = "finished") -> None:
    if _stack:
        _stack[-1].end(status)


def log_metric(key: str, value: float, step: int | None = None) -> None:
    _active().log_metric(key, value, step)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    _active().log_metrics(metrics, step)


def log_param(key: str, value: Any) -> None:
    _active().log_param(key, value)


def log_params(params: Mapping[str, Any]) -> None:
    _active().log_params(params)


def set_tag(key: str, value: Any) -> None:
    _active().set_tag(key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    _active().set_tags(tags)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> list[ArtifactFile]:
    return _active().log_artifact(local_path, artifact_path)


def register_dataset(
    name: str,
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    workspace: str | None = None,
    environment: str | None = None,
    datastore: str | None = None,
    description: str = "",
    format: str | None = None,
    progress: Progress | None = None,
) -> DatasetVersionInfo:
    """Register a file, directory or DataFrame; inside a run, as the active run's output."""
    run = active_run()
    return get_client().register_dataset(
        name,
        source,
        workspace=workspace or (run.workspace if run else None),
        environment=environment or (run.environment if run else None),
        datastore=datastore,
        description=description,
        run_id=run.id if run else None,
        format=format,
        progress=progress,
    )


def load_dataset(
    ref: str,
    *,
    workspace: str | None = None,
    environment: str | None = None,
    as_: LoadAs = "auto",
    progress: Progress | None = None,
) -> pd.DataFrame | Path:
    """``load_dataset("churn@v3")``: a DataFrame, or a local path for non-tabular data;
    inside a run, recorded as the active run's input."""
    run = active_run()
    return get_client().load_dataset(
        ref,
        workspace=workspace or (run.workspace if run else None),
        environment=environment or (run.environment if run and "/" not in ref else None),
        run_id=run.id if run else None,
        as_=as_,
        progress=progress,
    )


def log_model(model: Any, name: str | None = None, **kwargs: Any) -> ModelVersionInfo:
    """``mw.log_model(model, name="churn", input_example=X[:5])``: register from the active run."""
    result: ModelVersionInfo = _active().log_model(model, name, **kwargs)
    return result


def load_model(uri: str | Path, **kwargs: Any) -> LoadedModel:
    """``mw.load_model("models:/churn@champion")``; inside a run, in the run's environment."""
    run = active_run()
    if run is not None and str(uri).startswith("models:/"):
        kwargs.setdefault("workspace", run.workspace)
        kwargs.setdefault("environment", run.environment)
    return get_client().load_model(uri, **kwargs)


@atexit.register
def _end_open_runs() -> None:
    """Like MLflow: runs still open at exit end; failed if an uncaught exception ends the process."""
    failed = getattr(sys, "last_value", None) is not None
    while _stack:
        run = _stack[-1]
        try:
            run.end(
                "failed" if failed else "finished", error="uncaught exception" if failed else ""
            )
        except Exception:
            forget(run)


def flush() -> None:
    """Send what the active run has buffered (metrics and params are sent in the background)."""
    for run in list(_stack):
        run.flush()
