"""Running a pipeline as a tracked run: configuration, catalog, cache, lineage, executors.

One pipeline run is one tracked run, with a child run per node (its parameters, duration,
status, the digests of its inputs and outputs). Before any node runs, everything that can be
checked is: catalog entries for every input, parameters, data isolation, input files. The
cache is consulted in one call for all nodes (and once more for a node whose inputs an
upstream node had to compute first). Node runs, cache entries and lineage are recorded in
batches, off the scheduler's path (``_recorder``): a node costs no call of its own.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import TypeAdapter, ValidationError

from modelwright.api import tracking as tracking_ops
from modelwright.errors import InvalidInput, NodeFailed
from modelwright.objects.models import ObjectScope
from modelwright.pipelines import models as pm
from modelwright.pipelines.catalog import (
    FILE_TYPES,
    Catalog,
    Location,
    load_file,
    parse_catalog,
    resolve_locations,
    save_file,
)
from modelwright.pipelines.config import ProjectConfig, flatten, get_param, load_config
from modelwright.pipelines.hashing import (
    Serialized,
    cache_key,
    code_hash,
    deserialize,
    fingerprint,
    param_hash,
    serialize,
    sha256,
)
from modelwright.pipelines.node import PARAMETERS, Node, is_param
from modelwright.pipelines.pipeline import Pipeline
from modelwright.pipelines.project import get_pipeline
from modelwright.pipelines.service import TAG_CODE, TAG_ENV, TAG_INPUT, environment_tag
from modelwright.runner._recorder import NodeRecorder
from modelwright.runner.executors import Executor, make_executor
from modelwright.tracking.models import Key, ParamValue
from modelwright.tracking.snapshot import take_snapshot

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["NodeReport", "PipelineResult", "PipelineSession", "run_pipeline"]

T = TypeVar("T")
Status = Literal["ran", "cached", "failed", "skipped"]
Progress = Callable[["NodeReport"], None]


@dataclass
class NodeReport:
    node: str
    status: Status | Literal["pending", "running"]
    reason: str
    run_id: str | None = None
    cache_key: str | None = None
    duration: float = 0.0
    error: str = ""


@dataclass
class PipelineResult:
    run_id: str
    pipeline: str
    nodes: dict[str, NodeReport]
    failed: str | None
    config: dict[str, Any]
    _values: dict[str, Any] = field(default_factory=dict, repr=False)
    _objects: dict[str, pm.OutputObject] = field(default_factory=dict, repr=False)
    _client: Client | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.failed is None

    def load(self, name: str) -> Any:
        """A dataset the run produced (restored from the artifact store for cached nodes)."""
        if name in self._values:
            return self._values[name]
        obj = self._objects.get(name)
        if obj is None or self._client is None:
            raise InvalidInput(f"the run produced no dataset '{name}'", details={"name": name})
        data = self._client.transport.get_object(ObjectScope.artifacts(), obj.digest)
        assert isinstance(data, bytes)
        value = self._values[name] = deserialize(data, obj.format)
        return value

    def explain(self) -> list[str]:
        return [f"{r.node}: {r.status} — {r.reason}" for r in self.nodes.values()]


_PARAMS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[Key, ParamValue])


def _execute(node: Node, values: list[Any]) -> dict[str, Any]:
    """What an executor runs: one node on its input values."""
    return node.call(values)


@dataclass
class _Child:
    """A node's child run while the node runs (it is recorded when the node has finished)."""

    run_id: str
    started: bool  # already started on the platform (see ``_Run._child_run``)
    started_at: datetime
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class _Output:
    value: Any = None
    loaded: bool = False
    obj: pm.OutputObject | None = None
    serial: Serialized | None = None
    why_not: str = ""  # why the value has no stored form


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
    ) -> PipelineResult:
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
) -> PipelineResult:
    """Run ``pipeline`` as a tracked run; raises ``NodeFailed`` when a node fails."""
    # The environment snapshot of the pipeline's run (git state, packages) is taken while
    # the pipeline runs (git runs in processes of its own), and recorded with its first batch.
    snapshot = _in_thread(take_snapshot)
    ws = client.resolve_workspace(workspace)
    env = client.resolve_environment(ws, environment or (config.environment if config else None))
    config = config or ProjectConfig(environment=env)
    run = _Run(
        client,
        pipeline,
        name=name,
        config=config,
        workspace=ws,
        environment=env,
        project=Path(project).resolve(),
        cache=cache,
        progress=progress,
        snapshot=snapshot,
    )
    run.validate()
    if not isinstance(executor, str):
        return run.execute(executor)
    owned = make_executor(executor, address=address)
    try:
        return run.execute(owned)
    finally:
        owned.close()


class _Run:
    def __init__(
        self,
        client: Client,
        pipeline: Pipeline,
        *,
        name: str,
        config: ProjectConfig,
        workspace: str,
        environment: str,
        project: Path,
        cache: bool,
        progress: Progress | None,
        snapshot: Future[dict[str, Any]] | None = None,
    ) -> None:
        self.client = client
        self.snapshot = snapshot
        self.pipeline = pipeline
        self.name = name
        self.config = config
        self.ws = workspace
        self.env = environment
        self.project = project
        self.use_cache = cache
        self.progress = progress
        self.catalog: Catalog = parse_catalog(config.catalog)
        self.locations: dict[str, Location] = {}
        self.data: dict[str, _Output] = {}
        self.input_hashes: dict[str, str] = {}
        self.children: dict[str, _Child] = {}
        self.fingerprint = fingerprint()
        self.reports = {
            n.name: NodeReport(n.name, "pending", "waiting for upstream nodes") for n in pipeline
        }

    # -- before any node runs -----------------------------------------------------------------
    def validate(self) -> None:
        if any(e.type in FILE_TYPES and e.path is not None for e in self.catalog.values()):
            # Only files have locations (and may be production data): the workspace's
            # datastores are asked for when the catalog has some.
            info = self.client.get_workspace(self.ws)
            stores: dict[str, list[tuple[str, str, str]]] = {
                e.name: [(d.name, d.url, d.classification) for d in e.datastores]
                for e in info.environments
            }
            production = next(e.production for e in info.environments if e.name == self.env)
            self.locations = resolve_locations(
                self.catalog,
                environment=self.env,
                production=production,
                datastores=stores,
                project=self.project,
            )
        for n in self.pipeline:
            for i in n.dataset_inputs:
                if i in self.pipeline.producers:
                    continue
                entry = self.catalog.get(i)
                if entry is None or entry.type == "memory":
                    raise InvalidInput(
                        f"node '{n.name}' reads '{i}', which no node produces and the catalog "
                        f"of environment '{self.env}' does not define (add it to "
                        "conf/base/catalog.yml or conf/<env>/catalog.yml)",
                        details={"node": n.name, "dataset": i},
                    )
            for p in n.params:
                try:
                    get_param(self.config.parameters, p)
                except KeyError:
                    raise InvalidInput(
                        f"node '{n.name}' reads parameter '{p}', which the parameters of "
                        f"environment '{self.env}' do not define",
                        details={"node": n.name, "parameter": p},
                    ) from None
        # Free inputs: read now, so a missing file fails before any node runs.
        for i in self.pipeline.inputs():
            entry = self.catalog[i]
            if entry.type in FILE_TYPES:
                value, raw = load_file(entry.type, self.locations[i].url)
                self.data[i] = _Output(value=value, loaded=True)
                self.input_hashes[i] = sha256(raw)
            elif entry.type == "registered" and entry.dataset:
                version = self.client.get_dataset_version(
                    entry.dataset, workspace=self.ws, environment=self.env
                )
                self.input_hashes[i] = version.digest

    def _param_value(self, name: str) -> Any:
        if name == PARAMETERS:
            return self.config.parameters
        return get_param(self.config.parameters, name.removeprefix("params:"))

    # -- running ------------------------------------------------------------------------------
    def execute(self, executor: Executor) -> PipelineResult:
        client = self.client
        parent = client.call(
            tracking_ops.START_RUN,
            workspace=self.ws,
            environment=self.env,
            experiment=self.name,
            name=f"pipeline {self.name}",
            tags={
                "modelwright.pipeline": self.name,
                "modelwright.executor": getattr(executor, "name", type(executor).__name__),
                "modelwright.cache": "on" if self.use_cache else "off",
            },
        )
        self.parent_id = parent.id
        # The run's params, configuration, snapshot, node runs and end go with the recorder's
        # calls: git takes longer than a short pipeline, so the run does not wait for it.
        snapshot = self.snapshot or _in_thread(take_snapshot)
        if getattr(executor, "forks", False):
            # A process forked while git is being started inherits the pipe through which
            # subprocess learns that git started, and the snapshot would wait on it for as
            # long as the worker lives: the snapshot is done before the first fork.
            wait([snapshot])
        self.recorder = NodeRecorder(client, parent.id, self.name, snapshot=snapshot)
        try:
            flat = {
                k: v for k, v in flatten(self.config.parameters).items() if not isinstance(v, dict)
            }
            self.recorder.log_params(
                {k: json.dumps(v) if not isinstance(v, str) else v for k, v in flat.items()}
            )
            config = json.dumps(self.config.as_dict(), sort_keys=True, indent=2, default=str)
            self.recorder.log_artifact("pipeline/config.json", config.encode())
            failed = self._schedule(executor)
            if failed is None:
                self._log_run_metrics(client, parent.id)
            message = ""
            end = pm.PipelineRunEnd(status="finished")
            if failed is not None:
                report = self.reports[failed]
                last = report.error.strip().splitlines()[-1] if report.error else ""
                message = f"node '{failed}' failed: {last}"
                end = pm.PipelineRunEnd(
                    status="failed", error=f"{message}\n{report.error}"[:20_000]
                )
            self.recorder.close(end)
        except BaseException as exc:
            # Record the nodes that finished (a re-run restores them from the cache).
            end = pm.PipelineRunEnd(status="failed", error=f"{type(exc).__name__}: {exc}"[:20_000])
            if not self.recorder.close(end, raise_errors=False):
                with contextlib.suppress(Exception):
                    client.end_run(parent.id, status="failed", error=end.error)
            raise
        result = PipelineResult(
            run_id=parent.id,
            pipeline=self.name,
            nodes=self.reports,
            failed=failed,
            config=self.config.as_dict(),
            _values={k: d.value for k, d in self.data.items() if d.loaded},
            _objects={k: d.obj for k, d in self.data.items() if d.obj is not None},
            _client=client,
        )
        if failed is not None:
            raise NodeFailed(message, result)
        return result

    def _lookup(self, nodes: list[Node]) -> dict[str, pm.NodeStatus]:
        """One call for ``nodes``; inputs produced in this run are hashed here or chained."""
        lookups = []
        for n in nodes:
            known: dict[str, str] = {}
            upstream: dict[str, str] = {}
            for i in n.inputs:
                if is_param(i):
                    known[i] = param_hash(self._param_value(i))
                elif i in self.input_hashes:
                    known[i] = self.input_hashes[i]
                elif (out := self.data.get(i)) is not None and out.obj is not None:
                    known[i] = out.obj.digest
                else:
                    upstream[i] = self.pipeline.producers[i]
            lookups.append(
                pm.NodeLookup(
                    node=n.name,
                    code=self.code(n),
                    inputs=known,
                    upstream=upstream,
                    outputs=list(n.outputs),
                )
            )
        statuses = self.client.lookup_cache(
            self.ws, self.env, self.name, fingerprint=self.fingerprint, nodes=lookups
        )
        return {s.node: s for s in statuses}

    _memo: dict[int, str]

    def code(self, n: Node) -> str:
        if not hasattr(self, "_memo"):
            self._memo = {}
        return code_hash(n.func, memo=self._memo)

    def _cacheable(self, n: Node) -> str:
        """Why the node cannot use the cache, or ''."""
        if not self.use_cache:
            return "caching is off for this run (--no-cache)"
        if not n.cache:
            return "the node opts out of caching (cache=False)"
        for i in n.dataset_inputs:
            out = self.data.get(i)
            if i in self.pipeline.producers and out is not None and out.why_not:
                return f"input '{i}' has no stored form: {out.why_not}"
        return ""

    def _schedule(self, executor: Executor) -> str | None:  # noqa: PLR0912 (one loop)
        order = list(self.pipeline.nodes)
        statuses: dict[str, pm.NodeStatus] = {}
        if self.use_cache:
            candidates = [n for n in order if n.cache]
            if candidates:
                statuses = self._lookup(candidates)
        done: set[str] = set()
        running: dict[Future[Any], tuple[Node, Any, float]] = {}
        failed: str | None = None
        blocked: set[str] = set()
        pending = list(order)
        while pending or running:
            progressed = False
            for n in list(pending):
                deps = self.pipeline.dependencies[n.name]
                if deps & blocked:
                    pending.remove(n)
                    blocked.add(n.name)
                    first = sorted(deps & blocked)[0]
                    self._report(n.name, "skipped", f"upstream node '{first}' failed")
                    progressed = True
                    continue
                if not deps <= done:
                    continue
                pending.remove(n)
                progressed = True
                why_not = self._cacheable(n)
                status = statuses.get(n.name)
                if not why_not and (status is None or status.cache_key is None):
                    status = self._lookup([n])[n.name]
                if not why_not and status is not None and status.hit:
                    self._restore(n, status)
                    done.add(n.name)
                    run_id = self._record_cached(n, status)
                    self._report(
                        n.name, "cached", status.reason, cache_key=status.cache_key, run_id=run_id
                    )
                    continue
                reason = why_not or (status.reason if status else "not cached")
                running[self._submit(executor, n, status, reason)] = (
                    n,
                    status,
                    time.perf_counter(),
                )
            if not running:
                if not progressed and pending:  # cannot happen for a valid DAG
                    raise RuntimeError(f"pipeline stalled with {[n.name for n in pending]}")
                continue
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                n, status, started = running.pop(future)
                if self._finish(n, status, future, started):
                    done.add(n.name)
                else:
                    failed = failed or n.name
                    blocked.add(n.name)
        return failed

    def _report(self, node: str, status: Any, reason: str, **kw: Any) -> None:
        report = self.reports[node]
        report.status, report.reason = status, reason
        for k, v in kw.items():
            setattr(report, k, v)
        if self.progress is not None:
            self.progress(report)

    def _log_run_metrics(self, client: Client, run_id: str) -> None:
        """Outputs named ``metrics`` or ``*_metrics`` holding numbers (a mapping, nested ones
        flattened with dots) become metrics of the pipeline's run, so an evaluation node's
        figures show in ``runs list``, the leaderboard and promotion gates. Cached outputs
        are read back, so a re-run logs them too."""
        points: dict[str, float] = {}
        for name in self.pipeline.producers:
            if (name != "metrics" and not name.endswith("_metrics")) or name not in self.data:
                continue
            value = self._value(name, run_id)
            if isinstance(value, Mapping):
                points.update(
                    (k, float(v))
                    for k, v in flatten(dict(value)).items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                )
        if points:
            now = int(time.time() * 1000)
            client.log_batch(run_id, metrics=[(k, v, 0, now) for k, v in sorted(points.items())])

    def _value(self, name: str, run_id: str) -> Any:
        if is_param(name):
            return self._param_value(name)
        entry = self.catalog.get(name)
        if entry is not None and entry.type == "registered" and name not in self.pipeline.producers:
            return self.client.load_dataset(
                str(entry.dataset), workspace=self.ws, environment=self.env, run_id=run_id
            )
        out = self.data[name]
        if not out.loaded:
            assert out.obj is not None
            data = self.client.transport.get_object(ObjectScope.artifacts(), out.obj.digest)
            assert isinstance(data, bytes)
            out.value, out.loaded = deserialize(data, out.obj.format), True
        return out.value

    def _submit(
        self, executor: Executor, n: Node, status: pm.NodeStatus | None, reason: str
    ) -> Future[Any]:
        child = self.children[n.name] = _Child(_new_run_id(), False, datetime.now(UTC))
        try:
            child.params = self._node_params(n)
            child.run_id, child.started = self._child_run(n)
        except Exception as exc:
            return _failed(exc)
        self._report(n.name, "running", reason, run_id=child.run_id)
        try:
            values = [self._value(i, child.run_id) for i in n.inputs]
        except Exception as exc:
            return _failed(exc)
        return executor.submit(_execute, n, values)

    def _child_run(self, n: Node) -> tuple[str, bool]:
        """The id of the node's child run, and whether it is started now. It is recorded when
        the node has finished, except for a node that reads or writes a registered dataset:
        the dataset version names its run, so that run is started first."""
        started = any(
            (e := self.catalog.get(name)) is not None
            and e.type == "registered"
            and (name in n.outputs or name not in self.pipeline.producers)
            for name in (*n.dataset_inputs, *n.outputs)
        )
        if started:
            run_id = self.client.call(
                tracking_ops.START_RUN,
                workspace=self.ws,
                environment=self.env,
                experiment=self.name,
                name=n.name,
                parent_id=self.parent_id,
                tags={"modelwright.node": n.name, "modelwright.cache": "miss"},
            ).id
        else:
            run_id = _new_run_id()
        return run_id, started

    def _finish(
        self, n: Node, status: pm.NodeStatus | None, future: Future[Any], started: float
    ) -> bool:
        run_id = self.children[n.name].run_id
        duration = time.perf_counter() - started
        try:
            outputs = future.result()
            stored = self._store_outputs(n, outputs, run_id)
        except Exception as exc:
            text = "".join(traceback.format_exception(exc)[-8:])
            self._record(n, "failed", duration, error=text[-20_000:])
            self._report(
                n.name,
                "failed",
                f"raised {type(exc).__name__}: {exc}",
                duration=duration,
                error=text,
            )
            return False
        why_not = self._cacheable(n) or next(
            (
                f"output '{o}' has no stored form: {self.data[o].why_not}"
                for o in n.outputs
                if self.data[o].why_not
            ),
            "",
        )
        key = None
        tags: dict[str, str] = {}
        if not why_not:
            # Every input is hashed now (upstream outputs included): the key is known.
            inputs = self._input_hashes(n)
            key = status.cache_key if status is not None and status.cache_key else None
            key = key or cache_key(
                code=self.code(n),
                inputs=inputs,
                outputs=list(n.outputs),
                environment=self.fingerprint,
            )
            tags = {TAG_CODE: self.code(n), TAG_ENV: environment_tag(self.fingerprint)} | {
                TAG_INPUT + k: v for k, v in inputs.items()
            }
        self._record(n, "finished", duration, outputs=stored, key=key, tags=tags)
        reason = self.reports[n.name].reason
        if why_not and why_not not in reason:
            reason = f"{reason}; not cached: {why_not}"
        self._report(n.name, "ran", reason, duration=duration, cache_key=key)
        return True

    def _record(
        self,
        n: Node,
        status: Literal["finished", "failed"],
        duration: float,
        *,
        error: str = "",
        outputs: dict[str, pm.OutputObject] | None = None,
        key: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        child = self.children[n.name]
        self.recorder.add(
            pm.NodeRun(
                node=n.name,
                run_id=child.run_id,
                started=child.started,
                status=status,
                started_at=child.started_at,
                ended_at=datetime.now(UTC),
                error=error,
                params=child.params,
                tags={"modelwright.node": n.name, "modelwright.cache": "miss", **(tags or {})},
                metrics={"duration_s": duration},
                outputs=outputs or {},
                inputs=self._input_digests(n),
                cache_key=key,
            )
        )

    def _node_params(self, n: Node) -> dict[str, str]:
        params = {p: self._param_value(f"params:{p}") for p in n.params}
        text = {
            k: v if isinstance(v, str) else json.dumps(v, default=str) for k, v in params.items()
        }
        try:
            return _PARAMS.validate_python(text)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(map(str, err["loc"]))
            raise InvalidInput(
                f"node '{n.name}': param '{where}': {err['msg']}",
                details={"node": n.name, "param": where},
            ) from None

    def _input_hashes(self, n: Node) -> dict[str, str]:
        out: dict[str, str] = {}
        for i in n.inputs:
            if is_param(i):
                out[i] = param_hash(self._param_value(i))
            elif i in self.input_hashes:
                out[i] = self.input_hashes[i]
            elif (o := self.data.get(i)) is not None and o.obj is not None:
                out[i] = o.obj.digest
        return out

    def _input_digests(self, n: Node) -> list[str]:
        return [
            o.obj.digest
            for i in n.dataset_inputs
            if (o := self.data.get(i)) is not None and o.obj is not None
        ]

    def _store_outputs(
        self, n: Node, outputs: dict[str, Any], run_id: str
    ) -> dict[str, pm.OutputObject]:
        stored: dict[str, pm.OutputObject] = {}
        for name, value in outputs.items():
            serial = serialize(value)
            out = self.data[name] = _Output(value=value, loaded=True)
            if isinstance(serial, str):
                out.why_not = serial
            else:
                # Stored in the background; recorded as the run's artifact outputs/<name>.
                self.recorder.put(serial.data, serial.digest)
                out.obj = stored[name] = pm.OutputObject(
                    digest=serial.digest, format=serial.format, size=len(serial.data)
                )
            self._save_to_catalog(name, value, run_id, out)
        return stored

    def _save_to_catalog(self, name: str, value: Any, run_id: str, out: _Output) -> None:
        entry = self.catalog.get(name)
        if entry is None or entry.type == "memory":
            return
        if entry.type == "registered" and entry.dataset:
            ref = entry.dataset.partition("@")[0]
            self.client.register_dataset(
                ref, value, workspace=self.ws, environment=self.env, run_id=run_id
            )
            return
        loc = self.locations[name]
        if out.obj is not None and entry.type == out.obj.format:
            try:
                _, raw = load_file(entry.type, loc.url)
                if sha256(raw) == out.obj.digest:
                    return  # already there, byte for byte
            except InvalidInput:
                pass
        save_file(entry.type, loc.url, value)

    def _restore(self, n: Node, status: pm.NodeStatus) -> None:
        for name, obj in status.outputs.items():
            self.data[name] = _Output(obj=obj)
            entry = self.catalog.get(name)
            if entry is not None and entry.type in FILE_TYPES:
                # A cached output bound to a file is written again if the file is not there
                # byte for byte (it was deleted or changed since).
                loc = self.locations[name]
                try:
                    _, raw = load_file(entry.type, loc.url)
                    if entry.type == obj.format and sha256(raw) == obj.digest:
                        continue
                except InvalidInput:
                    pass
                data = self.client.transport.get_object(ObjectScope.artifacts(), obj.digest)
                assert isinstance(data, bytes)
                value = deserialize(data, obj.format)
                self.data[name] = _Output(value=value, loaded=True, obj=obj)
                save_file(entry.type, loc.url, value)

    def _record_cached(self, n: Node, status: pm.NodeStatus) -> str:
        """A finished child run for a node restored from the cache, naming its source run."""
        assert status.cache_key is not None
        assert status.run_id is not None
        run_id = _new_run_id()
        now = datetime.now(UTC)
        self.recorder.add(
            pm.NodeRun(
                node=n.name,
                run_id=run_id,
                started=False,
                status="finished",
                started_at=now,
                ended_at=now,
                error="",
                params=self._node_params(n),
                tags={
                    "modelwright.node": n.name,
                    "modelwright.cache": "hit",
                    "modelwright.cache.key": status.cache_key,
                    "modelwright.cache.source_run": status.run_id,
                },
                metrics={},
                outputs=status.outputs,
                inputs=self._input_digests(n),
                cache_key=None,
            )
        )
        return run_id


_IDS = random.Random()  # noqa: S311 - seeded from os.urandom; ids, not secrets


def _new_run_id() -> str:
    """A child run's id, as the platform makes them (32 hex characters). Not uuid4: it reads
    os.urandom, a system call, and a thread storing outputs may hold the GIL at its return."""
    return f"{_IDS.getrandbits(128):032x}"


def _in_thread(fn: Callable[[], T]) -> Future[T]:
    future: Future[T] = Future()

    def target() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=target, name="modelwright-snapshot", daemon=True).start()
    return future


def _failed(exc: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(exc)
    return future
