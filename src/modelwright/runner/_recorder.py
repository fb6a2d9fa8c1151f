"""Recording a pipeline's run off the scheduler's path.

Finished nodes gather in memory and are sent in one call per batch (``record_pipeline_run``):
every ``interval`` seconds from a background thread, and at the end of the run, together
with the run's params, its configuration artifact, its environment snapshot (with the first
batch: it is taken while the first nodes run) and its end. Per node, the scheduler only
appends to a list. Small outputs travel inside the batch that names them and are stored
durably before it is recorded, in the same call (a request and a permission check each
would cost more than the write); larger ones are uploaded from a few threads while the run
goes on, and a batch is sent once the uploads it names are done. What a crash of the process
can lose is the record of the nodes that finished in the last interval (one second by
default): those nodes run again on the next run instead of being restored from the cache.
Records are the run's heartbeats; while no node finishes for ``MODELWRIGHT_HEARTBEAT_INTERVAL``
seconds, an empty record is sent instead, so a run whose process died is shown as lost.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from modelwright.api import pipelines as pipeline_ops
from modelwright.client._retry import backoff, is_transient
from modelwright.errors import ServiceUnavailable
from modelwright.objects.models import ObjectScope
from modelwright.pipelines import models as pm
from modelwright.pipelines.hashing import Serialized, sha256
from modelwright.settings import client_settings
from modelwright.tracking.models import ArtifactFile

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["NodeRecorder", "RecordingHooks"]

_ARTIFACTS = ObjectScope.artifacts()

_PUT_THREADS = 4


class _PutPool:
    """The uploading threads, shared by the process's runs and kept between them: a pool of
    its own per run started its threads while the first nodes ran, and a thread start waits
    for the interpreter lock that the running uploads hold (milliseconds per thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def get(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(_PUT_THREADS, thread_name_prefix="modelwright-put")
            return self._pool

    def forget(self) -> None:
        # A forked child has none of the parent's threads: it starts a pool of its own.
        self._lock = threading.Lock()
        self._pool = None


_put_pool = _PutPool()
os.register_at_fork(after_in_child=_put_pool.forget)


class NodeRecorder:
    """Stores node outputs and records one pipeline's run and its node runs, in batches."""

    def __init__(
        self,
        client: Client,
        run_id: str,
        pipeline: str,
        *,
        interval: float | None = None,
        max_nodes: int = 1000,
        snapshot: Future[dict[str, Any]] | None = None,
    ) -> None:
        self._client = client
        self.run_id = run_id
        self.pipeline = pipeline
        settings = client_settings()  # the SDK's own: one reading of the environment
        self.interval = settings.flush_interval if interval is None else interval
        self.flush_timeout = settings.flush_timeout
        self.heartbeat_interval = settings.heartbeat_interval
        self._last_contact = time.monotonic()  # the run was just started
        self.max_nodes = min(max_nodes, pm.MAX_NODES)
        self._seen: set[str] = set()  # every digest put
        self._uploads: dict[str, Future[str]] = {}  # digest → its upload (larger objects)
        # Small objects not recorded yet, and their size (until a batch carrying them is
        # recorded: one sent again after a failure still fits ``MAX_INLINE_TOTAL``).
        self._inline: dict[str, bytes] = {}
        self._inline_bytes = 0
        # The run's environment snapshot, sent with the first batch (see ``session``).
        self._snapshot = snapshot
        self._pending: list[pm.NodeRun] = []
        self._params: dict[str, str] = {}  # of the pipeline's run
        self._artifacts: list[ArtifactFile] = []  # of the pipeline's run
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one batch in flight at a time
        self._wake = threading.Event()
        self._closed = False
        self._error: BaseException | None = None
        # A record sent whose outcome is unknown (a timeout): the arguments to send again.
        self._unsent: dict[str, Any] | None = None
        self._end_sent = False
        self._thread = threading.Thread(
            target=self._loop, name=f"modelwright-pipeline-{run_id[:8]}", daemon=True
        )
        self._thread.start()

    # -- producers ----------------------------------------------------------------------------
    def put(self, data: bytes, digest: str) -> None:
        """Store ``data`` (whose sha256 is ``digest``) in the artifact store: a small object
        goes with the next batch (stored before the batch is recorded), a larger one is
        uploaded in the background and the node run naming it is sent once it is there."""
        with self._lock:
            if digest in self._seen:
                return
            self._seen.add(digest)
            size = len(data)
            if size <= pm.MAX_INLINE_OBJECT and self._inline_bytes + size <= pm.MAX_INLINE_TOTAL:
                self._inline[digest] = data
                self._inline_bytes += size
                return
            self._uploads[digest] = _put_pool.get().submit(
                self._client.transport.put_object, _ARTIFACTS, data
            )

    def log_params(self, params: dict[str, str]) -> None:
        with self._lock:
            self._params.update(params)

    def log_artifact(self, path: str, data: bytes) -> None:
        digest = sha256(data)
        self.put(data, digest)
        with self._lock:
            self._artifacts.append(ArtifactFile(path=path, digest=digest, size=len(data)))

    def add(self, run: pm.NodeRun) -> None:
        self._raise_pending()
        with self._lock:
            self._pending.append(run)
            full = len(self._pending) >= self.max_nodes
        if full:
            self._wake.set()

    # -- sending ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Send everything added so far; raise what the platform refused."""
        self._send(raise_errors=True)
        self._raise_pending()

    def close(self, end: pm.PipelineRunEnd | None = None, *, raise_errors: bool = True) -> bool:
        """Send the rest, with ``end`` the end of the pipeline's run, and stop. An error worth
        retrying is retried for ``MODELWRIGHT_FLUSH_TIMEOUT`` seconds. With
        ``raise_errors=False`` (the run fails already) what can be recorded still is, a second
        error does not hide the first, and the result says whether all was sent."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=60)
        try:
            if raise_errors:
                self._raise_pending()  # before the run is ended as finished
            deadline = time.monotonic() + self.flush_timeout
            failures = 0
            while True:
                try:
                    return self._send(raise_errors=True, end=end) and self._error is None
                except Exception as exc:
                    remaining = deadline - time.monotonic()
                    if is_transient(exc) and remaining > 0:
                        failures += 1
                        time.sleep(min(backoff(failures), remaining))
                        continue
                    if raise_errors:
                        raise
                    if self._error is None:
                        self._error = exc
                    return False
        finally:
            # No upload of this run outlives it (the pool stays for the next run).
            with self._lock:
                uploads = list(self._uploads.values())
            wait(uploads)

    def _loop(self) -> None:
        while True:
            self._wake.wait(min(self.interval, self.heartbeat_interval))
            self._wake.clear()
            if self._closed:  # close() sends the rest itself, in the caller's thread
                return
            self._send(raise_errors=False)
            self._heartbeat()

    def _heartbeat(self) -> None:
        """An empty record when nothing was recorded for ``heartbeat_interval`` seconds."""
        with self._send_lock:
            if time.monotonic() - self._last_contact < self.heartbeat_interval:
                return
            empty = pm.RecordPipelineRun(run_id=self.run_id, pipeline=self.pipeline)
            try:  # without a key: an empty record applied twice changes nothing
                self._client.transport.call(pipeline_ops.RECORD_PIPELINE_RUN, empty)
            except Exception as exc:
                self._failed(exc, raise_errors=False)
                return
            self._last_contact = time.monotonic()

    def _send(self, *, raise_errors: bool, end: pm.PipelineRunEnd | None = None) -> bool:
        with self._send_lock:
            # A record whose outcome is unknown goes first, as it was (same key): the
            # platform applies it once, and what follows it stays in order.
            if self._unsent is not None and not self._record(raise_errors):
                return False
            if self._end_sent:
                end = None
            with self._lock:
                batch, self._pending = self._pending, []
                params, self._params = self._params, {}
                artifacts, self._artifacts = self._artifacts, []
                objects, self._inline = self._inline, {}
                uploads = dict(self._uploads)
                snapshot, self._snapshot = self._snapshot, None
            if not (batch or params or artifacts or objects or snapshot or end):
                return True
            digests = [o.digest for r in batch for o in r.outputs.values()]
            try:
                for digest in (*digests, *(a.digest for a in artifacts)):
                    if (upload := uploads.get(digest)) is not None:
                        upload.result()  # raises what the upload raised
                taken = snapshot.result() if snapshot is not None else None
            except ServiceUnavailable as exc:
                with self._lock:  # nothing was sent: sent again with the next batch
                    self._pending[:0] = batch
                    self._params = {**params, **self._params}
                    self._artifacts[:0] = artifacts
                    self._inline = {**objects, **self._inline}
                    self._snapshot = snapshot
                return self._failed(exc, raise_errors)
            except Exception as exc:  # kept for the caller's thread to raise
                return self._failed(exc, raise_errors)
            self._unsent = {
                "nodes": batch,
                "params": params,
                "artifacts": artifacts,
                "end": end,
                "objects": objects,
                "snapshot": taken,
                "idempotency_key": uuid.uuid4().hex,
            }
            self._end_sent = end is not None
            return self._record(raise_errors)

    def _record(self, raise_errors: bool) -> bool:
        """Send the unsent record; a refused one is not sent again."""
        call = self._unsent
        if call is None:
            return True
        try:
            self._client.record_pipeline_run(self.run_id, self.pipeline, **call)
        except Exception as exc:
            if not is_transient(exc):
                self._unsent = None
            return self._failed(exc, raise_errors)
        self._unsent = None
        self._last_contact = time.monotonic()
        with self._lock:
            self._inline_bytes -= sum(map(len, call["objects"].values()))
        return True

    def _failed(self, exc: BaseException, raise_errors: bool) -> bool:
        if raise_errors:
            raise exc
        # Kept for the caller's thread to raise; an error worth retrying is not an error
        # yet: the next send (or close) sends the same again.
        if self._error is None and not is_transient(exc):
            self._error = exc
        return False

    def _raise_pending(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err


class RecordingHooks:
    """The platform's record of a pipeline's run, attached through the run's hooks
    (``hooks.RunHooks``): its params and configuration, its nodes and their outputs in
    batches (``NodeRecorder``), the metrics its outputs hold, and its end."""

    def __init__(
        self,
        client: Client,
        run_id: str,
        pipeline: str,
        *,
        snapshot: Future[dict[str, Any]] | None = None,
    ) -> None:
        self._client = client
        self.run_id = run_id
        self.recorder = NodeRecorder(client, run_id, pipeline, snapshot=snapshot)

    def before_pipeline_run(
        self, params: Mapping[str, str], config: bytes, dag: pm.PipelineDag
    ) -> None:
        self.recorder.log_params(dict(params))
        self.recorder.log_artifact("pipeline/config.json", config)
        self.recorder.log_artifact(pm.DAG_ARTIFACT, dag.model_dump_json().encode())

    def after_node_run(self, record: pm.NodeRun, objects: Sequence[Serialized]) -> None:
        for serial in objects:  # stored in the background; the record waits for them
            self.recorder.put(serial.data, serial.digest)
        self.recorder.add(record)

    def on_node_error(self, record: pm.NodeRun) -> None:
        self.recorder.add(record)

    def after_pipeline_run(self, end: pm.PipelineRunEnd, metrics: Mapping[str, float]) -> None:
        if metrics:
            now = int(time.time() * 1000)
            points = [(k, v, 0, now) for k, v in sorted(metrics.items())]
            self._client.log_batch(self.run_id, metrics=points)
        self.recorder.close(end)

    def on_pipeline_error(self, end: pm.PipelineRunEnd) -> None:
        # Record the nodes that finished (a re-run restores them from the cache).
        if not self.recorder.close(end, raise_errors=False):
            with contextlib.suppress(Exception):
                self._client.end_run(self.run_id, status="failed", error=end.error)
