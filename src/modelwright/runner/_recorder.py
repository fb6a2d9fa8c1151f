"""Recording a pipeline's run off the scheduler's path.

Outputs go to the artifact store from a few threads (a new object is a durable write, two
fsyncs on a local disk); finished nodes gather in memory and are sent in one call per batch
(``record_pipeline_run``): every ``interval`` seconds from a background thread, and at the end
of the run, together with the run's params, its configuration artifact and its end. Per node,
the scheduler only appends to a list. What a crash of the process can lose is the record of
the nodes that finished in the last interval (one second by default): those nodes run again
on the next run instead of being restored from the cache.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from modelwright.errors import ServiceUnavailable
from modelwright.objects.models import ObjectScope
from modelwright.pipelines import models as pm
from modelwright.pipelines.hashing import sha256
from modelwright.tracking.models import ArtifactFile

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["NodeRecorder"]

_PUT_THREADS = 4


def _interval() -> float:
    try:
        return float(os.environ.get("MODELWRIGHT_FLUSH_INTERVAL", "1.0"))
    except ValueError:
        return 1.0


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
    ) -> None:
        self._client = client
        self.run_id = run_id
        self.pipeline = pipeline
        self.interval = _interval() if interval is None else interval
        self.max_nodes = min(max_nodes, pm.MAX_NODES)
        self._puts: ThreadPoolExecutor | None = None
        self._objects: dict[str, Future[str]] = {}  # digest → its upload
        self._pending: list[pm.NodeRun] = []
        self._params: dict[str, str] = {}  # of the pipeline's run
        self._artifacts: list[ArtifactFile] = []  # of the pipeline's run
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()  # one batch in flight at a time
        self._wake = threading.Event()
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._loop, name=f"modelwright-pipeline-{run_id[:8]}", daemon=True
        )
        self._thread.start()

    # -- producers ----------------------------------------------------------------------------
    def put(self, data: bytes, digest: str) -> None:
        """Store ``data`` (whose sha256 is ``digest``) in the artifact store, in the background;
        the node run naming it is sent once it is there."""
        with self._lock:
            if digest in self._objects:
                return
            if self._puts is None:
                self._puts = ThreadPoolExecutor(_PUT_THREADS, thread_name_prefix="modelwright-put")
            self._objects[digest] = self._puts.submit(
                self._client.transport.put_object, ObjectScope.artifacts(), data
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
        """Send the rest, with ``end`` the end of the pipeline's run, and stop. With
        ``raise_errors=False`` (the run fails already) what can be recorded still is, a second
        error does not hide the first, and the result says whether all was sent."""
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=60)
        try:
            if raise_errors:
                self._raise_pending()  # before the run is ended as finished
            return self._send(raise_errors=raise_errors, end=end) and self._error is None
        finally:
            if self._puts is not None:
                self._puts.shutdown(wait=True)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._closed:  # close() sends the rest itself, in the caller's thread
                return
            self._send(raise_errors=False)

    def _send(self, *, raise_errors: bool, end: pm.PipelineRunEnd | None = None) -> bool:
        with self._send_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                params, self._params = self._params, {}
                artifacts, self._artifacts = self._artifacts, []
                uploads = dict(self._objects)
            if not (batch or params or artifacts or end):
                return True
            digests = [o.digest for r in batch for o in r.outputs.values()]
            try:
                for digest in (*digests, *(a.digest for a in artifacts)):
                    if (upload := uploads.get(digest)) is not None:
                        upload.result()  # raises what the upload raised
                self._client.record_pipeline_run(
                    self.run_id, self.pipeline, batch, params=params, artifacts=artifacts, end=end
                )
            except ServiceUnavailable as exc:
                with self._lock:  # sent again with the next batch
                    self._pending[:0] = batch
                    self._params = {**params, **self._params}
                    self._artifacts[:0] = artifacts
                self._fail(exc, raise_errors)
                return False
            except Exception as exc:  # kept for the caller's thread to raise
                self._fail(exc, raise_errors)
                return False
            return True

    def _fail(self, exc: BaseException, raise_errors: bool) -> None:
        if raise_errors:
            raise exc
        if self._error is None:
            self._error = exc

    def _raise_pending(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err
