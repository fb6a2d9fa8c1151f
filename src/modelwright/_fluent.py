"""The module-level API data scientists know from MLflow: ``mw.start_run()``, ``mw.log_metric()``.

A default client is connected on first use from ``MODELWRIGHT_URL``/``MODELWRIGHT_TOKEN`` (a
server) or ``MODELWRIGHT_HOME`` (embedded, default ``./.modelwright``); ``set_platform()``
points it elsewhere. Runs started here nest: the innermost open run is the active one.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from modelwright.errors import AlreadyExists, Conflict, InvalidInput
from modelwright.tracking import artifact_files as files

if TYPE_CHECKING:
    import pandas as pd

    from modelwright.client import Client
    from modelwright.client._data import LoadAs, Progress
    from modelwright.client._progress import ShowProgress
    from modelwright.client._tracking import ActiveRun
    from modelwright.data.models import DatasetVersionInfo
    from modelwright.registry.models import ModelVersionInfo
    from modelwright.registry.predict import LoadedModel
    from modelwright.tracking.models import (
        ArtifactFile,
        Deletion,
        ExperimentInfo,
        RunDetail,
        RunInfo,
    )


class _State:
    client: Client | None = None
    # Set by ``set_experiment``: where ``start_run()`` without an experiment goes.
    experiment: str | None = None


_lock = threading.Lock()
_state = _State()
_stack: list[ActiveRun] = []
# While a pipeline's node runs, its child run (started on first use) is the active run, above
# the runs open when the node started: (their number, the node's run). Set by the runner.
_node_run: ContextVar[tuple[int, Callable[[], ActiveRun]] | None] = ContextVar(
    "modelwright_node_run", default=None
)


def enter_node_run(
    get: Callable[[], ActiveRun],
) -> Token[tuple[int, Callable[[], ActiveRun]] | None]:
    return _node_run.set((len(_stack), get))


def leave_node_run(token: Token[tuple[int, Callable[[], ActiveRun]] | None]) -> None:
    _node_run.reset(token)


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


def set_experiment(
    experiment_name: str, *, workspace: str | None = None, description: str = ""
) -> ExperimentInfo:
    """Make ``experiment_name`` the experiment of later ``start_run()`` calls that name none,
    creating it if new (as MLflow's ``set_experiment``)."""
    client = get_client()
    ws = client.resolve_workspace(workspace)
    info = next((e for e in client.list_experiments(ws) if e.name == experiment_name), None)
    if info is None:
        try:
            info = client.create_experiment(experiment_name, workspace=ws, description=description)
        except AlreadyExists:  # created by another process meanwhile
            info = next(e for e in client.list_experiments(ws) if e.name == experiment_name)
    _state.experiment = experiment_name
    return info


class _Scope(TypedDict):
    workspace: str | None
    environment: str | None


def _scope(run: ActiveRun | None, workspace: str | None, environment: str | None) -> _Scope:
    """Inside a run, a call acts in the run's workspace and environment unless told."""
    return {
        "workspace": workspace or (run.workspace if run else None),
        "environment": environment or (run.environment if run else None),
    }


def start_run(
    experiment: str | None = None,
    *,
    workspace: str | None = None,
    environment: str | None = None,
    name: str = "",
    run_name: str | None = None,
    tags: Mapping[str, Any] | None = None,
    nested: bool = False,
    snapshot: bool | Mapping[str, Any] = True,
) -> ActiveRun:
    """Start a run and make it the active one; use as ``with mw.start_run(...) as run:``.
    ``experiment`` defaults to the one of ``set_experiment``, else ``default``; ``run_name``
    is MLflow's spelling of ``name``; ``snapshot`` as in ``Client.start_run``."""
    if run_name is not None:
        if name and name != run_name:
            raise InvalidInput(
                f"run_name: {run_name!r} differs from name={name!r}; give one of them",
                details={"field": "run_name"},
            )
        name = run_name
    parent = active_run()
    if parent is not None and not nested:
        raise Conflict(
            f"run {parent.id} is still active: end it first, or pass nested=True "
            "to start a child run",
            details={"run_id": parent.id},
        )
    # A child run is started where its parent is (a node's run may use another client).
    client = parent.client if parent is not None else get_client()
    run = client.start_run(
        experiment or _state.experiment or "default",
        **_scope(parent, workspace, environment),
        name=name,
        tags=tags,
        parent_id=parent.id if parent else None,
        snapshot=snapshot,
    )
    run.on_end.append(forget)
    _stack.append(run)
    return run


def active_run() -> ActiveRun | None:
    node = _node_run.get()
    if node is not None and len(_stack) <= node[0]:
        return node[1]()
    return _stack[-1] if _stack else None


def _active() -> ActiveRun:
    # Like MLflow: logging without a run starts one.
    return active_run() or start_run()


def forget(run: ActiveRun) -> None:
    if run in _stack:
        _stack.remove(run)


def end_run(status: str = "finished") -> None:
    """End the active run (``"FINISHED"``, MLflow's spelling, is accepted too)."""
    run = active_run()
    if run is not None and run in _stack:  # a node's run is ended by its pipeline's record
        run.end(status.lower())


def get_run(run_id: str) -> RunDetail:
    return get_client().get_run(run_id)


def delete_run(run_id: str) -> Deletion:
    """Delete a run (and its child runs): hidden from searches, restorable with
    ``restore_run`` until deleted permanently (``get_client().delete_run(..., permanent=True)``)."""
    return get_client().delete_run(run_id)


def restore_run(run_id: str) -> RunInfo:
    return get_client().restore_run(run_id)


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


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> list[ArtifactFile]:
    """Store every file under ``local_dir`` as artifacts of the active run."""
    if not Path(local_dir).is_dir():
        raise InvalidInput(
            f"local_dir: '{local_dir}' is not a directory", details={"field": "local_dir"}
        )
    return _active().log_artifact(local_dir, artifact_path)


def _log_file(artifact_file: str, write: Callable[[Path], None]) -> list[ArtifactFile]:
    """Write ``artifact_file`` with ``write(path)`` and store it on the active run."""
    rel = files.check_artifact_file(artifact_file)
    run = _active()
    with tempfile.TemporaryDirectory(prefix="mw-artifact-") as tmp:
        path = Path(tmp) / rel.name
        write(path)
        parent = str(rel.parent)
        return run.log_artifact(path, None if parent == "." else parent)


def log_text(text: str, artifact_file: str) -> list[ArtifactFile]:
    """``mw.log_text("notes", "notes/readme.txt")``: store a string as a UTF-8 text artifact."""
    return _log_file(artifact_file, lambda p: files.write_text(p, text))


def log_dict(dictionary: Mapping[str, Any], artifact_file: str) -> list[ArtifactFile]:
    """Store a dict as JSON, or as YAML when ``artifact_file`` ends in ``.yaml``/``.yml``."""
    return _log_file(artifact_file, lambda p: files.write_dict(p, dictionary))


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: Mapping[str, Any] | None = None
) -> list[ArtifactFile]:
    """Store a matplotlib figure as an image (the format follows the suffix: ``.png``, ``.svg``)."""
    return _log_file(artifact_file, lambda p: files.write_figure(p, figure, save_kwargs))


def log_table(data: pd.DataFrame | Mapping[str, Any], artifact_file: str) -> list[ArtifactFile]:
    """Store a DataFrame (or a dict of columns) as a Parquet artifact (``*.parquet``)."""
    return _log_file(artifact_file, lambda p: files.write_table(p, data))


def log_input(
    dataset: str | DatasetVersionInfo | pd.DataFrame, *, name: str | None = None
) -> DatasetVersionInfo:
    """Record a dataset version (``"churn@v3"`` or a ``DatasetVersionInfo``) as an input of
    the active run without reading it. A DataFrame is registered first as ``name`` (stored
    once by content hash: the same rows are the same version)."""
    import pandas as pd

    from modelwright.data.models import DatasetVersionInfo

    run = _active()
    client = get_client()
    if isinstance(dataset, pd.DataFrame):
        if not name:
            raise InvalidInput(
                "name: give the dataset's name to record a DataFrame", details={"field": "name"}
            )
        dataset = client.register_dataset(
            name, dataset, workspace=run.workspace, environment=run.environment
        )
    if isinstance(dataset, DatasetVersionInfo):
        ref = f"{dataset.environment}/{dataset.name}@v{dataset.version}"
        workspace = dataset.workspace
    elif isinstance(dataset, str):
        ref, workspace = dataset, run.workspace
    else:
        raise InvalidInput(
            f"dataset: expected a reference such as 'churn@v3', a DatasetVersionInfo or a "
            f"DataFrame, got {type(dataset).__name__}",
            details={"field": "dataset"},
        )
    return client.log_input(run.id, ref, workspace=workspace)


def search_runs(
    filter_string: str = "",
    *,
    experiment: str | None = None,
    order_by: list[str] | None = None,
    max_results: int = 1000,
    workspace: str | None = None,
    environment: str | None = None,
    output: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[RunInfo]:
    """``mw.search_runs("metrics.auc > 0.8", order_by=["metrics.auc DESC"])``: a DataFrame
    with MLflow's columns (``run_id``, ``experiment_id``, ``status``, ``start_time``,
    ``end_time``, ``metrics.<k>``, ``params.<k>``, ``tags.<k>``), or with ``output="list"``
    the runs themselves."""
    if output not in ("pandas", "list"):
        raise InvalidInput(
            f"output: expected 'pandas' or 'list' (got {output!r})", details={"field": "output"}
        )
    from modelwright.tracking.frames import runs_frame

    runs = get_client().search_runs(
        filter_string,
        workspace=workspace,
        experiment=experiment,
        environment=environment,
        order_by=order_by,
        max_results=max_results,
    )
    return runs if output == "list" else runs_frame(runs)


def register_dataset(
    name: str,
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    workspace: str | None = None,
    environment: str | None = None,
    datastore: str | None = None,
    description: str = "",
    format: str | None = None,
    progress: ShowProgress = None,
) -> DatasetVersionInfo:
    """Register a file, directory or DataFrame; inside a run, as the active run's output.
    ``progress``: bars on stderr (True), none (False), or by default only in a terminal or
    a notebook; or a callback ``progress(phase, done, total)``."""
    run = active_run()
    return get_client().register_dataset(
        name,
        source,
        **_scope(run, workspace, environment),
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
    scope = _scope(run, workspace, environment)
    if "/" in ref:  # "prod/churn@v3" names its environment: the run's is no default for it
        scope["environment"] = environment
    return get_client().load_dataset(
        ref,
        **scope,
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
