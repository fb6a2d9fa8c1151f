"""Tracking in the client: runs as context managers with buffered logging, search, lineage."""

from __future__ import annotations

import contextlib
import numbers
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from modelwright.api import tracking as ops
from modelwright.client._base import ClientBase
from modelwright.client._logger import BatchLogger
from modelwright.core.pages import PagedList
from modelwright.errors import InvalidInput, ModelwrightError, failure_text
from modelwright.lineage.models import Lineage
from modelwright.objects.models import ObjectScope
from modelwright.tracking import models as tr
from modelwright.tracking.models import _key
from modelwright.tracking.snapshot import take_snapshot

if TYPE_CHECKING:
    from modelwright.data.models import DatasetVersionInfo

__all__ = ["ActiveRun", "TrackingMixin"]


def _check_key(kind: str, key: str, known: set[str]) -> str:
    if key in known:
        return key
    try:
        _key(key)
    except ValueError as exc:
        raise InvalidInput(f"{kind} key {key!r}: {exc}", details={"field": kind}) from None
    known.add(key)
    return key


def _metric_value(key: str, value: Any) -> float:
    if type(value) is float:  # the common case, without the ABC check below
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(
            f"metric '{key}': value must be a number, got {type(value).__name__} {value!r:.60}",
            details={"field": "value", "key": key},
        )
    return float(value)


def _param_value(key: str, value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > tr.MAX_PARAM_VALUE:
        raise InvalidInput(
            f"param '{key}': value is {len(text)} characters, at most {tr.MAX_PARAM_VALUE} allowed",
            details={"field": "value", "key": key},
        )
    return text


class ActiveRun:
    """A running run. Use it as a context manager: leaving the block ends the run as
    finished, or as failed (with the error recorded) when the block raised."""

    def __init__(self, client: TrackingMixin, detail: tr.RunDetail) -> None:
        self._client = client
        self.info = detail
        self.id = detail.id
        transport = client.transport
        self._logger = BatchLogger(detail.id, lambda batch: transport.call(ops.LOG_BATCH, batch))
        self._keys: set[str] = set()
        self._ended = False
        # Called when the run ends (the module-level API drops it from its active stack).
        self.on_end: list[Callable[[ActiveRun], None]] = []

    def __repr__(self) -> str:
        return f"<ActiveRun {self.id} {self.info.experiment}/{self.info.name or '-'} ({self.info.environment})>"

    @property
    def client(self) -> TrackingMixin:
        """The client the run logs through."""
        return self._client

    @property
    def workspace(self) -> str:
        return self.info.workspace

    @property
    def environment(self) -> str:
        return self.info.environment

    # -- logging ------------------------------------------------------------------------------
    def log_metric(
        self, key: str, value: float, step: int | None = None, timestamp: int | None = None
    ) -> None:
        """Buffered: returns at once; sent in the background (see ``flush``)."""
        _check_key("metric", key, self._keys)
        self._logger.metric(key, _metric_value(key, value), int(step or 0), timestamp)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def log_param(self, key: str, value: Any) -> None:
        self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        checked = {
            _check_key("param", k, self._keys): _param_value(k, v) for k, v in params.items()
        }
        self._logger.params(checked)

    def set_tag(self, key: str, value: Any) -> None:
        self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        checked = {_check_key("tag", k, self._keys): _param_value(k, v) for k, v in tags.items()}
        self._logger.tags(checked)

    def log_artifact(
        self, local_path: str | Path, artifact_path: str | None = None
    ) -> list[tr.ArtifactFile]:
        """Store a file or a whole directory as artifacts of this run."""
        return self._client.log_artifact(self.id, local_path, artifact_path)

    def log_model(self, model: Any, name: str | None = None, **kwargs: Any) -> Any:
        """Register ``model`` as a version of ``name`` from this run (see ``Client.log_model``)."""
        self.flush()
        return self._client.log_model(model, name, run_id=self.id, **kwargs)  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Send everything logged so far (raises what the server refused)."""
        self._logger.flush()

    def detach(self) -> None:
        """Send what was logged and stop sending, leaving the run running: whoever owns the
        run ends it (a pipeline's node run ends with the record of the pipeline's run)."""
        self._ended = True
        for hook in self.on_end:
            hook(self)
        self._logger.close()

    # -- ending -------------------------------------------------------------------------------
    def end(self, status: str = "finished", error: str = "") -> tr.RunInfo:
        if self._ended:
            return self._client.get_run(self.id)
        self._ended = True
        for hook in self.on_end:
            hook(self)
        try:
            self._logger.close()
        except Exception as exc:
            # Not finished: something it was given is not stored. Failing it may not work
            # either (the database may be what failed): it then stays running, and is shown
            # lost once its heartbeats have stopped long enough.
            with contextlib.suppress(ModelwrightError):
                self._client.end_run(self.id, status="failed", error=f"logging failed: {exc}")
            raise
        return self._client.end_run(self.id, status=status, error=error)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.end("finished")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.end("killed", error="KeyboardInterrupt")
        else:
            error = (
                failure_text(exc)
                if exc is not None
                else "".join(traceback.format_exception(exc_type, exc, tb))[-20_000:]
            )
            self.end("failed", error=error)


class TrackingMixin(ClientBase):
    """The tracking methods of ``Client``."""

    # -- runs ---------------------------------------------------------------------------------
    def start_run(
        self,
        experiment: str = "default",
        *,
        workspace: str | None = None,
        environment: str | None = None,
        name: str = "",
        tags: Mapping[str, Any] | None = None,
        parent_id: str | None = None,
        snapshot: bool | Mapping[str, Any] = True,
        run_id: str | None = None,
    ) -> ActiveRun:
        """``snapshot``: take the process's snapshot (git state, packages) now, record none,
        or record this one (taken earlier by the caller). ``run_id``: the new run's id, when
        the caller chose it (32 hex characters)."""
        ws = self.resolve_workspace(workspace)
        env = self.resolve_environment(ws, environment)
        detail = self.call(
            ops.START_RUN,
            workspace=ws,
            environment=env,
            experiment=experiment,
            name=name,
            parent_id=parent_id,
            tags={k: str(v) for k, v in (tags or {}).items()},
            snapshot=(take_snapshot() if snapshot is True else dict(snapshot) if snapshot else {}),
            run_id=run_id,
        )
        return ActiveRun(self, detail)

    def end_run(self, run_id: str, status: str = "finished", error: str = "") -> tr.RunInfo:
        return self.call(ops.END_RUN, run_id=run_id, status=status, error=error)

    def kill_run(self, run_id: str) -> tr.RunInfo:
        """Mark a running run killed, with its running child runs (a pipeline's nodes): for
        a run shown as ``lost`` (its process died) or one that must not be written to any
        more. Its process, if alive, gets an error at its next logging call."""
        return self.call(ops.KILL_RUN, run_id=run_id)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Iterable[tuple[str, float, int, int]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> tr.LogBatchResult:
        """Unbuffered: one request with (key, value, step, timestamp_ms) points."""
        points = list(metrics)
        batch = None
        if points:
            keys, values, steps, stamps = (list(c) for c in zip(*points, strict=True))
            batch = {
                "keys": keys,
                "values": [_metric_value(k, v) for k, v in zip(keys, values, strict=True)],
                "steps": steps,
                "timestamps": stamps,
            }
        return self.call(
            ops.LOG_BATCH,
            run_id=run_id,
            metrics=batch,
            params={k: _param_value(k, v) for k, v in (params or {}).items()},
            tags={k: _param_value(k, v) for k, v in (tags or {}).items()},
        )

    def get_run(self, run_id: str) -> tr.RunDetail:
        return self.call(ops.GET_RUN, run_id=run_id)

    def metric_history(
        self, run_id: str, key: str, *, max_points: int | None = None
    ) -> tr.MetricHistory:
        """Every point of the metric by step; ``max_points``: at most that many, thinned by
        the server for a chart (each bucket of steps its smallest and largest value)."""
        return self.call(ops.METRIC_HISTORY, run_id=run_id, key=key, max_points=max_points)

    def list_experiments(
        self,
        workspace: str | None = None,
        *,
        page_token: str | None = None,
        limit: int | None = None,
        view_type: tr.ViewType = "active_only",
    ) -> PagedList[tr.ExperimentInfo]:
        """Every experiment of the workspace (by name), or one page of them; deleted ones
        only with ``view_type`` ``"deleted_only"`` or ``"all"``."""
        return self.call_pages(
            ops.LIST_EXPERIMENTS,
            page_token=page_token,
            limit=limit,
            workspace=self.resolve_workspace(workspace),
            view_type=view_type,
        )

    def search_runs(
        self,
        filter: str = "",
        *,
        workspace: str | None = None,
        experiment: str | None = None,
        environment: str | None = None,
        order_by: list[str] | None = None,
        max_results: int = 1000,
        include_children: bool = True,
        page_token: str | None = None,
        view_type: tr.ViewType = "active_only",
        columns: list[str] | None = None,
    ) -> PagedList[tr.RunInfo]:
        """``search_runs("metrics.auc > 0.8 and params.depth = '5'", order_by=["metrics.auc DESC"])``:
        one page of at most ``max_results``; pass its ``next_page_token`` as ``page_token``
        (with the same filter and order) for the next. Deleted runs are left out unless
        ``view_type`` is ``"deleted_only"`` or ``"all"``. ``columns``: only these params, tags
        and metrics of each run (``["metrics.auc", "params.depth"]``); every one by default."""
        return self.call_pages(
            ops.SEARCH_RUNS,
            page_token=page_token,
            size="max_results",
            follow=False,
            workspace=self.resolve_workspace(workspace),
            experiment=experiment,
            environment=environment,
            filter=filter,
            order_by=order_by or [],
            limit=max_results,
            include_children=include_children,
            view_type=view_type,
            columns=columns,
        )

    def run_columns(
        self, experiment: str | None = None, *, workspace: str | None = None
    ) -> tr.RunColumns:
        """The metric, param and tag keys of the experiment's runs (every experiment's when
        None): the columns a table of its runs can show."""
        return self.call(
            ops.RUN_COLUMNS, workspace=self.resolve_workspace(workspace), experiment=experiment
        )

    def compare_runs(self, run_ids: list[str]) -> tr.RunComparison:
        """The params and metrics that differ between two or more runs (and those that do
        not), in one request."""
        return self.call(ops.COMPARE_RUNS, run_ids=run_ids)

    # -- artifacts ----------------------------------------------------------------------------
    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> list[tr.ArtifactFile]:
        """Upload a file or a directory (recursively) and record it on the run."""
        path = Path(local_path)
        if path.is_file():
            files = [(path, path.name)]
        elif path.is_dir():
            files = [
                (p, p.relative_to(path).as_posix()) for p in sorted(path.rglob("*")) if p.is_file()
            ]
            if not files:
                raise InvalidInput(
                    f"local_path: directory '{path}' has no files", details={"field": "local_path"}
                )
        else:
            raise InvalidInput(
                f"local_path: '{path}' does not exist", details={"field": "local_path"}
            )
        prefix = (artifact_path.strip("/") + "/") if artifact_path else ""
        entries = []
        for file, rel in files:
            digest = self.transport.put_object(ObjectScope.artifacts(), file)
            entries.append({"path": prefix + rel, "digest": digest, "size": file.stat().st_size})
        detail = self.call(ops.LOG_ARTIFACTS, run_id=run_id, artifacts=entries)
        recorded = {e["path"] for e in entries}
        return [a for a in detail.artifacts if a.path in recorded]

    def download_artifacts(self, run_id: str, path: str = "", dest: str | Path = ".") -> Path:
        """Download one artifact, or every artifact under a directory path, into ``dest``."""
        detail = self.get_run(run_id)
        path = path.strip("/")
        chosen = [
            a
            for a in detail.artifacts
            if not path or a.path == path or a.path.startswith(path + "/")
        ]
        if not chosen:
            raise InvalidInput(
                f"path: run '{run_id}' has no artifact '{path}'", details={"field": "path"}
            )
        dest = Path(dest)
        for a in chosen:
            self.transport.get_object_file(ObjectScope.artifacts(), a.digest, dest / a.path)
        return dest / path if path else dest

    # -- lineage ------------------------------------------------------------------------------
    def lineage(
        self, entity: str, *, workspace: str | None = None, depth: int = 10, impact: bool = False
    ) -> Lineage:
        """``lineage("run:<id>")``, ``lineage("dataset:dev/churn@v3")``, ``lineage("artifact:<sha256>")``.
        ``impact``: also what depends on it downstream (model versions, where they serve,
        derived datasets)."""
        return self.call(
            ops.LINEAGE,
            workspace=self.resolve_workspace(workspace),
            entity=entity,
            depth=depth,
            impact=impact,
        )

    # -- experiments --------------------------------------------------------------------------
    def create_experiment(
        self, name: str, *, workspace: str | None = None, description: str = ""
    ) -> tr.ExperimentInfo:
        """Create an experiment (``AlreadyExists`` if it does); starting a run in a new
        experiment creates it too."""
        return self.call(
            ops.CREATE_EXPERIMENT,
            workspace=self.resolve_workspace(workspace),
            name=name,
            description=description,
        )

    def log_input(
        self, run_id: str, dataset: str, *, workspace: str | None = None
    ) -> DatasetVersionInfo:
        """Record ``dataset`` (``"churn@v3"``, ``"churn@latest"``, ``"prod/churn@v2"``) as an
        input of the run without reading its bytes; checked against data isolation as a read."""
        from modelwright.api import data as data_ops
        from modelwright.data.models import LATEST, parse_ref

        env_part, _, rest = dataset.rpartition("/")
        name, version = parse_ref(rest, "dataset")
        run = self.get_run(run_id)
        return self.call(
            data_ops.LOAD_DATASET,
            workspace=workspace or run.workspace,
            environment=env_part or run.environment,
            name=name,
            version=LATEST if version is None else str(version),
            run_id=run_id,
        )
