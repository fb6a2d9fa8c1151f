"""Running one node of a pipeline's run, as Kedro's ``runner/task.py`` does: its cache lookup
and restore, the call on an executor, and keeping its outputs.

The cache is consulted in one call for all nodes before the first runs (``look_up_all``),
and once more for a node whose inputs an upstream node had to compute first. Every node's
end is told to the run's hooks (``hooks.RunHooks``), which record it: a node costs no call
to the platform of its own, except a node that reads or writes a registered dataset, whose
run is started first (the dataset version names it).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import TypeAdapter, ValidationError

from modelwright.api import tracking as tracking_ops
from modelwright.errors import InvalidInput, failure_text
from modelwright.pipelines import models as pm
from modelwright.pipelines.hashing import cache_key, code_hash
from modelwright.pipelines.node import Node
from modelwright.pipelines.pipeline import Pipeline
from modelwright.pipelines.service import (
    TAG_CODE,
    TAG_ENV,
    TAG_INPUT,
    TAG_REASON,
    environment_tag,
)
from modelwright.runner._node_run import NodeRunScope, NodeRunState, forget_client, local_client
from modelwright.runner.catalog import RunCatalog
from modelwright.runner.executors import Executor
from modelwright.runner.hooks import RunHooks
from modelwright.runner.result import Reports
from modelwright.tracking.models import Key, ParamValue

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["NodeOutcome", "NodeTasks", "RunScope", "call_node", "run_node"]

_PARAMS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[Key, ParamValue])


def call_node(node: Node, values: list[Any]) -> dict[str, Any]:
    """One node on its input values."""
    return node.call(values)


@dataclass(frozen=True)
class NodeOutcome:
    """What a node's call gave: its outputs, or what it raised as text (an exception's
    traceback does not survive every executor's trip back), and whether the node started
    its run on the platform (by logging to it)."""

    outputs: dict[str, Any]
    error: str = ""  # ``errors.failure_text``: the exception, where the user's code failed
    summary: str = ""  # the exception on one line
    started: bool = False


def run_node(node: Node, values: list[Any], scope: NodeRunScope) -> NodeOutcome:
    """What an executor runs: one node on its input values, its child run the active run."""
    state = NodeRunState(scope)
    try:
        with state:
            outputs = call_node(node, values)
    except Exception as exc:
        summary = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return NodeOutcome({}, failure_text(exc), summary, state.started)
    return NodeOutcome(outputs, started=state.started)


@dataclass(frozen=True)
class RunScope:
    """Where a pipeline's run is recorded: its workspace, environment, pipeline, experiment
    and run."""

    workspace: str
    environment: str
    pipeline: str
    run_id: str
    experiment: str


@dataclass
class _Child:
    """A node's child run while the node runs (it is recorded when the node has finished)."""

    run_id: str
    started: bool  # already started on the platform (see ``NodeTasks._child_run``)
    started_at: datetime
    status: pm.NodeStatus | None = None  # of its cache lookup
    clock: float = 0.0  # perf_counter when it was submitted
    params: dict[str, str] = field(default_factory=dict)


class NodeTasks:
    """Starts and finishes the nodes of one pipeline's run, for the scheduler."""

    def __init__(
        self,
        client: Client,
        pipeline: Pipeline,
        catalog: RunCatalog,
        hooks: RunHooks,
        reports: Reports,
        *,
        scope: RunScope,
        executor: Executor,
        cache: bool,
        fingerprint: str,
    ) -> None:
        self.client = client
        self.pipeline = pipeline
        self.catalog = catalog
        self.hooks = hooks
        self.reports = reports
        self.scope = scope
        self.executor = executor
        self.use_cache = cache
        self.fingerprint = fingerprint
        self.statuses: dict[str, pm.NodeStatus] = {}
        self.children: dict[str, _Child] = {}
        self._memo: dict[int, str] = {}
        # Nodes run in this process log through this client; elsewhere, they connect anew.
        self._client_key = local_client(client)
        self._connection = client.transport.connection()

    def close(self) -> None:
        forget_client(self._client_key)

    # -- the cache ----------------------------------------------------------------------------
    def look_up_all(self) -> None:
        """One call for every node that may be cached; keys chain through hits."""
        if self.use_cache:
            candidates = [n for n in self.pipeline.nodes if n.cache]
            if candidates:
                self.statuses = self._lookup(candidates)

    def _lookup(self, nodes: list[Node]) -> dict[str, pm.NodeStatus]:
        lookups = []
        for n in nodes:
            known, unknown = self.catalog.hashes(n)
            lookups.append(
                pm.NodeLookup(
                    node=n.name,
                    code=self.code(n),
                    inputs=known,
                    upstream={i: self.pipeline.producers[i] for i in unknown},
                    outputs=list(n.outputs),
                )
            )
        statuses = self.client.lookup_cache(
            self.scope.workspace,
            self.scope.environment,
            self.scope.pipeline,
            fingerprint=self.fingerprint,
            nodes=lookups,
        )
        return {s.node: s for s in statuses}

    def code(self, n: Node) -> str:
        return code_hash(n.func, memo=self._memo)

    def _cacheable(self, n: Node) -> str:
        """Why the node cannot use the cache, or ''."""
        if not self.use_cache:
            return "caching is off for this run (--no-cache)"
        if not n.cache:
            return "the node opts out of caching (cache=False)"
        for i in n.dataset_inputs:
            if why_not := self.catalog.why_not_stored(i):
                return f"input '{i}' has no stored form: {why_not}"
        return ""

    # -- a node's start -----------------------------------------------------------------------
    def start(self, n: Node) -> Future[Any] | None:
        """Restore ``n`` from the cache (None: it is done), or submit it to the executor."""
        why_not = self._cacheable(n)
        status = self.statuses.get(n.name)
        if not why_not and (status is None or status.cache_key is None):
            status = self._lookup([n])[n.name]
        if not why_not and status is not None and status.hit:
            self._restore(n, status)
            return None
        reason = why_not or (status.reason if status else "not cached")
        return self._submit(n, status, reason)

    def _restore(self, n: Node, status: pm.NodeStatus) -> None:
        """Restore ``n``'s outputs, with a finished child run naming the run they came from."""
        if status.cache_key is None or status.run_id is None:  # a hit always has both
            raise RuntimeError(f"node '{n.name}': a cache hit without its key or run")
        self.catalog.restore(status.outputs)
        child = _Child(_new_run_id(), False, datetime.now(UTC), params=self._node_params(n))
        tags = {
            "modelwright.cache": "hit",
            "modelwright.cache.key": status.cache_key,
            "modelwright.cache.source_run": status.run_id,
            TAG_REASON: _tag_text(status.reason),
        }
        record = self._record(
            n, child, "finished", ended_at=child.started_at, tags=tags, outputs=status.outputs
        )
        self.hooks.after_node_run(record, ())
        self.reports.update(
            n.name, "cached", status.reason, cache_key=status.cache_key, run_id=child.run_id
        )

    def _submit(self, n: Node, status: pm.NodeStatus | None, reason: str) -> Future[Any]:
        child = self.children[n.name] = _Child(
            _new_run_id(), False, datetime.now(UTC), status, time.perf_counter()
        )
        try:
            child.params = self._node_params(n)
            child.run_id, child.started = self._child_run(n)
        except Exception as exc:
            return _failed(exc)
        self.reports.update(n.name, "running", reason, run_id=child.run_id)
        try:
            values = [self.catalog.value(i, child.run_id) for i in n.inputs]
        except Exception as exc:
            return _failed(exc)
        scope = NodeRunScope(
            run_id=child.run_id,
            parent_id=self.scope.run_id,
            name=n.name,
            workspace=self.scope.workspace,
            environment=self.scope.environment,
            experiment=self.scope.experiment,
            started=child.started,
            connection=self._connection,
            tags={"modelwright.node": n.name, "modelwright.cache": "miss"},
            client_key=self._client_key,
            pid=os.getpid(),
        )
        return self.executor.submit(run_node, n, values, scope)

    def _child_run(self, n: Node) -> tuple[str, bool]:
        """The id of the node's child run, and whether it is started now. It is recorded when
        the node has finished, except for a node that reads or writes a registered dataset:
        the dataset version names its run, so that run is started first."""
        if not self.catalog.registered_io(n):
            return _new_run_id(), False
        run = self.client.call(
            tracking_ops.START_RUN,
            workspace=self.scope.workspace,
            environment=self.scope.environment,
            experiment=self.scope.experiment,
            name=n.name,
            parent_id=self.scope.run_id,
            tags={"modelwright.node": n.name, "modelwright.cache": "miss"},
        )
        return run.id, True

    def _node_params(self, n: Node) -> dict[str, str]:
        params = {p: self.catalog.param(f"params:{p}") for p in n.params}
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

    # -- a node's end -------------------------------------------------------------------------
    def finish(self, n: Node, future: Future[Any]) -> bool:
        """Keep the outputs of ``n``, whose future is done, and tell the hooks; False when the
        node failed."""
        child = self.children[n.name]
        duration = time.perf_counter() - child.clock
        metrics = {"duration_s": duration}
        error = reason = ""
        try:
            outcome: NodeOutcome = future.result()
            child.started = child.started or outcome.started
            if outcome.error:
                error, reason = outcome.error, f"raised {outcome.summary}"
            else:
                outputs = outcome.outputs
                serials = [self.catalog.keep(name, v, child.run_id) for name, v in outputs.items()]
        except Exception as exc:
            error, reason = failure_text(exc), f"raised {type(exc).__name__}: {exc}"
        if error:
            record = self._record(
                n,
                child,
                "failed",
                error=error,
                metrics=metrics,
                tags={TAG_REASON: _tag_text(reason)},
            )
            self.hooks.on_node_error(record)
            self.reports.update(n.name, "failed", reason, duration=duration, error=error)
            return False
        stored = {o: obj for o in outputs if (obj := self.catalog.data[o].obj) is not None}
        why_not = self._cacheable(n) or next(
            (
                f"output '{o}' has no stored form: {why}"
                for o in n.outputs
                if (why := self.catalog.why_not_stored(o))
            ),
            "",
        )
        key: str | None = None
        tags: dict[str, str] = {}
        if not why_not:
            key, tags = self._cache_key(n, child.status)
        reason = self.reports.nodes[n.name].reason
        if why_not and why_not not in reason:
            reason = f"{reason}; not cached: {why_not}"
        record = self._record(
            n,
            child,
            "finished",
            metrics=metrics,
            tags={**tags, TAG_REASON: _tag_text(reason)},
            outputs=stored,
            key=key,
        )
        self.hooks.after_node_run(record, [s for s in serials if s is not None])
        self.reports.update(n.name, "ran", reason, duration=duration, cache_key=key)
        return True

    def _cache_key(self, n: Node, status: pm.NodeStatus | None) -> tuple[str, dict[str, str]]:
        """The key of ``n``'s outputs, and the tags naming its parts. Every input is hashed
        now (upstream outputs included)."""
        inputs, _ = self.catalog.hashes(n)
        code = self.code(n)
        key = status.cache_key if status is not None and status.cache_key else None
        key = key or cache_key(
            code=code, inputs=inputs, outputs=list(n.outputs), environment=self.fingerprint
        )
        tags = {TAG_CODE: code, TAG_ENV: environment_tag(self.fingerprint)}
        return key, tags | {TAG_INPUT + k: v for k, v in inputs.items()}

    def _record(
        self,
        n: Node,
        child: _Child,
        status: Literal["finished", "failed"],
        *,
        ended_at: datetime | None = None,
        error: str = "",
        tags: Mapping[str, str] | None = None,
        metrics: dict[str, float] | None = None,
        outputs: Mapping[str, pm.OutputObject] | None = None,
        key: str | None = None,
    ) -> pm.NodeRun:
        """The record of ``n``'s child run, which ends now unless ``ended_at`` says when."""
        return pm.NodeRun(
            node=n.name,
            run_id=child.run_id,
            started=child.started,
            status=status,
            started_at=child.started_at,
            ended_at=ended_at or datetime.now(UTC),
            error=error,
            params=child.params,
            tags={"modelwright.node": n.name, "modelwright.cache": "miss", **(tags or {})},
            metrics=metrics or {},
            outputs=dict(outputs or {}),
            inputs=self.catalog.digests(n),
            cache_key=key,
        )


_TAG_TEXT = 1000  # a reason is a line; the error itself is the run's
_IDS = random.Random()  # noqa: S311 - seeded from os.urandom; ids, not secrets


def _new_run_id() -> str:
    """A child run's id, as the platform makes them (32 hex characters). Not uuid4: it reads
    os.urandom, a system call, and a thread storing outputs may hold the GIL at its return."""
    return f"{_IDS.getrandbits(128):032x}"


def _tag_text(text: str) -> str:
    return text if len(text) <= _TAG_TEXT else text[: _TAG_TEXT - 1] + "…"


def _failed(exc: BaseException) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_exception(exc)
    return future
