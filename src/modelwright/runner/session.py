"""Running a pipeline as a tracked run: the orchestrator the CLI and the SDK call.

One pipeline run is one tracked run, with a child run per node (its parameters, duration,
status, the digests of its inputs and outputs). Before any node runs, everything that can be
checked is (``catalog``): catalog entries for every input, parameters, data isolation, input
files. Then the scheduler (``scheduler``) runs the DAG, each node run by the tasks (``task``:
its cache, its call, its outputs), and the recorder (``_recorder``) attaches through the
run's hooks (``hooks``): node runs, cache entries and lineage are recorded in batches, off
the scheduler's path. Inside a node, ``mw.active_run()`` is the node's child run
(``_node_run``), so a node logs metrics, artifacts and models as any script does. The runs
go to an experiment named after the project and the pipeline unless the caller names one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelwright.api import tracking as tracking_ops
from modelwright.errors import NodeFailed, error_headline, failure_text
from modelwright.pipelines import models as pm
from modelwright.pipelines.catalog import check_metrics, parse_catalog
from modelwright.pipelines.config import ProjectConfig, flatten, load_config
from modelwright.pipelines.hashing import fingerprint
from modelwright.pipelines.pipeline import Pipeline
from modelwright.pipelines.project import experiment_name, get_pipeline
from modelwright.runner._recorder import RecordingHooks
from modelwright.runner.catalog import RunCatalog
from modelwright.runner.executors import Executor, make_executor
from modelwright.runner.result import NodeReport, PipelineResult, Progress, Reports
from modelwright.runner.scheduler import schedule
from modelwright.runner.task import NodeTasks, RunScope
from modelwright.tracking.snapshot import take_snapshot

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["NodeReport", "PipelineResult", "PipelineSession", "run_pipeline"]

T = TypeVar("T")


class PipelineSession:
    """A project opened for one environment: ``PipelineSession(client, "path/to/project",
    environment="dev").run("train")``. The CLI and the SDK both call ``run``."""

    def __init__(
        self,
        client: Client,
        project: str | Path = ".",
        *,
        environment: str | None = None,
        workspace: str | None = None,
        params: Iterable[str] | Mapping[str, Any] = (),
    ) -> None:
        self.client = client
        self.project = Path(project).resolve()
        self.workspace = client.resolve_workspace(workspace)
        self.environment = client.resolve_environment(self.workspace, environment)
        self.config = load_config(self.project, self.environment, params)

    def pipeline(self, name: str) -> Pipeline:
        return get_pipeline(self.project, name)

    def run(
        self,
        name: str,
        *,
        executor: str | Executor = "sequential",
        address: str | None = None,
        cache: bool = True,
        tags: Iterable[str] = (),
        from_inputs: Iterable[str] = (),
        to_outputs: Iterable[str] = (),
        progress: Progress | None = None,
        experiment: str | None = None,
    ) -> PipelineResult:
        """Run pipeline ``name``; its runs go to ``experiment``, by default one named after
        the project and the pipeline (``churn-train``)."""
        pipe = self.pipeline(name)
        if tags := list(tags):
            pipe = pipe.only_tags(*tags)
        if names := list(from_inputs):
            pipe = pipe.from_inputs(*names)
        if names := list(to_outputs):
            pipe = pipe.to_outputs(*names)
        return run_pipeline(
            self.client,
            pipe,
            name=name,
            config=self.config,
            workspace=self.workspace,
            environment=self.environment,
            project=self.project,
            executor=executor,
            address=address,
            cache=cache,
            progress=progress,
            experiment=experiment,
        )


def run_pipeline(
    client: Client,
    pipeline: Pipeline,
    *,
    name: str,
    config: ProjectConfig | None = None,
    workspace: str | None = None,
    environment: str | None = None,
    project: str | Path = ".",
    executor: str | Executor = "sequential",
    address: str | None = None,
    cache: bool = True,
    progress: Progress | None = None,
    experiment: str | None = None,
) -> PipelineResult:
    """Run ``pipeline`` as a tracked run in ``experiment`` (default: named after the project
    and ``name``); raises ``NodeFailed`` when a node fails."""
    experiment = experiment_name(Path(project), name, experiment)
    # The environment snapshot of the pipeline's run (git state, packages) is taken while
    # the pipeline runs (git runs in processes of its own), and recorded with its first batch.
    snapshot = _in_thread(take_snapshot)
    ws = client.resolve_workspace(workspace)
    env = client.resolve_environment(ws, environment or (config.environment if config else None))
    config = config or ProjectConfig(environment=env)
    catalog = RunCatalog(
        client,
        parse_catalog(config.catalog),
        config.parameters,
        workspace=ws,
        environment=env,
        project=Path(project).resolve(),
    )
    run = _Run(
        client, pipeline, catalog, name=name, experiment=experiment, config=config, cache=cache
    )
    catalog.prepare(pipeline)
    if not isinstance(executor, str):
        return run.execute(executor, snapshot, progress)
    owned = make_executor(executor, address=address)
    try:
        return run.execute(owned, snapshot, progress)
    finally:
        close: Callable[[], object] | None = getattr(owned, "close", None)
        if close is not None:
            close()


class _Run:
    """One run of a pipeline: its tracked run, the scheduler over its nodes, its end."""

    def __init__(
        self,
        client: Client,
        pipeline: Pipeline,
        catalog: RunCatalog,
        *,
        name: str,
        experiment: str,
        config: ProjectConfig,
        cache: bool,
    ) -> None:
        self.client = client
        self.pipeline = pipeline
        self.catalog = catalog
        self.name = name
        self.experiment = experiment
        self.config = config
        self.use_cache = cache
        self.fingerprint = fingerprint()

    def execute(
        self, executor: Executor, snapshot: Future[dict[str, Any]], progress: Progress | None
    ) -> PipelineResult:
        catalog = self.catalog
        parent = self.client.call(
            tracking_ops.START_RUN,
            workspace=catalog.ws,
            environment=catalog.env,
            experiment=self.experiment,
            name=f"pipeline {self.name}",
            tags={
                "modelwright.pipeline": self.name,
                "modelwright.executor": getattr(executor, "name", type(executor).__name__),
                "modelwright.cache": "on" if self.use_cache else "off",
            },
        )
        # The run's params, configuration, snapshot, node runs and end go with the recorder's
        # calls: git takes longer than a short pipeline, so the run does not wait for it.
        if getattr(executor, "forks", False):
            # A process forked while git is being started inherits the pipe through which
            # subprocess learns that git started, and the snapshot would wait on it for as
            # long as the worker lives: the snapshot is done before the first fork.
            wait([snapshot])
        hooks = RecordingHooks(self.client, parent.id, self.name, snapshot=snapshot)
        reports = Reports([n.name for n in self.pipeline], progress)
        tasks = NodeTasks(
            self.client,
            self.pipeline,
            catalog,
            hooks,
            reports,
            scope=RunScope(catalog.ws, catalog.env, self.name, parent.id, self.experiment),
            executor=executor,
            cache=self.use_cache,
            fingerprint=self.fingerprint,
        )
        try:
            flat = {
                k: v for k, v in flatten(self.config.parameters).items() if not isinstance(v, dict)
            }
            config = json.dumps(self.config.as_dict(), sort_keys=True, indent=2, default=str)
            hooks.before_pipeline_run(
                {k: json.dumps(v) if not isinstance(v, str) else v for k, v in flat.items()},
                config.encode(),
                _dag(self.pipeline),
            )
            tasks.look_up_all()
            failed = schedule(self.pipeline, tasks, reports)
            message = ""
            end = pm.PipelineRunEnd(status="finished")
            if failed is not None:
                report = reports.nodes[failed]
                # The node's error record: the exception, then where the user's code failed.
                head, frame = error_headline(report.error)
                message = f"node '{failed}' failed: {head}" + (f"\n  {frame}" if frame else "")
                end = pm.PipelineRunEnd(
                    status="failed", error=f"{message}\n\n{report.error}"[:20_000]
                )
            hooks.after_pipeline_run(end, self._metrics(parent.id) if failed is None else {})
        except BaseException as exc:
            hooks.on_pipeline_error(pm.PipelineRunEnd(status="failed", error=failure_text(exc)))
            raise
        finally:
            tasks.close()
        result = PipelineResult(
            run_id=parent.id,
            pipeline=self.name,
            nodes=reports.nodes,
            failed=failed,
            config=self.config.as_dict(),
            _values=catalog.loaded(),
            _objects=catalog.stored(),
            _client=self.client,
        )
        if failed is not None:
            raise NodeFailed(message, result)
        return result

    def _metrics(self, run_id: str) -> dict[str, float]:
        """Outputs of catalog type ``metrics`` (a dict of numbers, nested ones flattened with
        dots) become metrics of the pipeline's run, so an evaluation node's figures show in
        ``runs list``, the leaderboard and promotion gates; so do the numbers of outputs named
        ``metrics`` or ``*_metrics``. Cached outputs are read back, so a re-run logs them
        too."""
        points: dict[str, float] = {}
        for name in self.pipeline.producers:
            if name not in self.catalog.data:
                continue
            entry = self.catalog.entries.get(name)
            if entry is not None and entry.type == "metrics":
                points.update(check_metrics(name, self.catalog.value(name, run_id)))
                continue
            if name != "metrics" and not name.endswith("_metrics"):
                continue
            value = self.catalog.value(name, run_id)
            if isinstance(value, Mapping):
                points.update(
                    (k, float(v))
                    for k, v in flatten(dict(value)).items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                )
        return points


def _dag(pipeline: Pipeline) -> pm.PipelineDag:
    return pm.PipelineDag(
        nodes=[
            pm.DagNode(
                name=n.name,
                needs=sorted(pipeline.dependencies[n.name]),
                inputs=list(n.inputs),
                outputs=list(n.outputs),
            )
            for n in pipeline
        ]
    )


def _in_thread(fn: Callable[[], T]) -> Future[T]:
    future: Future[T] = Future()

    def target() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=target, name="modelwright-snapshot", daemon=True).start()
    return future
