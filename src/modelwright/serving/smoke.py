"""A smoke test of a model version: served on a temporary port by the same worker process
``modelwright serve`` starts for a deployment, fed rows over HTTP one request each, its answers
compared with the version's offline predictions on the same rows, then torn down.

A promotion's smoke gate runs it in a child process of the workflow worker
(``tasks._child``): models are never loaded in the worker itself.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import orjson

from modelwright.client import Client
from modelwright.endpoints.models import ServingConfig
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.registry.predict import LoadedModel, parse_payload
from modelwright.registry.signature import example_payload
from modelwright.registry.uri import model_uri
from modelwright.serving.worker import WorkerSpec
from modelwright.settings import Settings

__all__ = ["SmokeFailed", "TemporaryServer", "same_answer", "smoke_test"]

log = logging.getLogger("modelwright.serving.smoke")

READY_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
EXAMPLES = 5
_LOG_TAIL = 2000


class SmokeFailed(Exception):
    """The version could not be served at all (it did not start, or died)."""


class TemporaryServer:
    """One worker process of ``modelwright.serving.worker`` on an ephemeral loopback port."""

    def __init__(self, spec: WorkerSpec, env: dict[str, str], log: Path) -> None:
        self.spec = spec
        self.env = env
        self.log = log
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.startup_s = 0.0
        self.teardown_s = 0.0

    def start(self, timeout: float = READY_TIMEOUT) -> None:
        started = time.perf_counter()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.listen(1024)
            sock.set_inheritable(True)
            self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            spec = self.spec.model_copy(update={"fd": sock.fileno()})
            with self.log.open("wb") as out:
                self.proc = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
                    [sys.executable, "-m", "modelwright.serving.worker", spec.model_dump_json()],
                    pass_fds=(sock.fileno(),),
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,  # its own group: the teardown stops all of it
                )
        finally:
            # The worker holds its copy: should it die, callers are refused at once rather
            # than left waiting in a backlog nobody reads.
            sock.close()
        self._wait_ready(self.proc, timeout)
        self.startup_s = time.perf_counter() - started

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=1.0) as probe:
            while True:
                code = proc.poll()
                if code is not None:
                    raise SmokeFailed(
                        f"the server exited with code {code} before it was ready: {self.tail()}"
                    )
                try:
                    if probe.get("/v2/health/ready").status_code == 200:
                        return
                except httpx.HTTPError:
                    pass  # still loading the model
                if time.monotonic() > deadline:
                    raise SmokeFailed(
                        f"the server was not ready within {timeout:.0f} s: {self.tail()}"
                    )
                time.sleep(0.05)

    def tail(self) -> str:
        try:
            text = self.log.read_bytes()[-_LOG_TAIL:].decode(errors="replace").strip()
        except OSError:
            return "(no output)"
        return text.splitlines()[-1] if text else "(no output)"

    def stop(self) -> None:
        """Stop the worker's whole process group and wait for it; idempotent."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        started = time.perf_counter()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            proc.wait()
        self.teardown_s = time.perf_counter() - started


def worker_env(settings: Settings, acting: str) -> dict[str, str]:
    """The environment of a worker that opens the same platform as this process, acting in
    ``acting``: the settings spelled out, nothing inherited that could point elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWRIGHT_")}
    for name, value in settings.model_dump(mode="json").items():
        if value is not None:
            env[f"MODELWRIGHT_{name.upper()}"] = (
                value if isinstance(value, str) else orjson.dumps(value).decode()
            )
    env["MODELWRIGHT_HOME"] = str(settings.home.resolve())
    env["MODELWRIGHT_ENVIRONMENT"] = acting
    return env


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM (a cancelled job) raises, so that ``finally`` blocks tear the server down."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may take signals
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _json(value: Any) -> Any:
    """What the model server would send for ``value``: through the same JSON encoding."""

    def plain(v: Any) -> Any:
        return str(v)

    return orjson.loads(orjson.dumps(value, default=plain, option=orjson.OPT_SERIALIZE_NUMPY))


def _per_row(predictions: Any, n: int) -> list[Any]:
    """One JSON answer per row, as ``/invocations`` answers a one-row request."""
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        rows: Any = predictions.to_dict(orient="records")
    elif isinstance(predictions, pd.Series | np.ndarray):
        rows = predictions.tolist()
    else:
        rows = predictions
    if not isinstance(rows, list) or len(rows) != n:
        raise InvalidInput(
            f"the model's predictions on {n} rows are not one per row "
            f"({type(predictions).__name__}): they cannot be compared row by row"
        )
    out: list[Any] = _json(rows)
    return out


def _offline(model: LoadedModel, data: Any) -> list[Any]:
    """The offline answer for each row; where predicting on all rows at once fails, row by
    row, each failure kept as ``{"offline error": ...}`` (which no served answer equals)."""
    try:
        return _per_row(model.predict(data), len(data))
    except InvalidInput:
        raise
    except Exception as exc:  # the model's own failure: told row by row below
        log.info("predicting on all rows failed (%s); row by row", exc)
    out: list[Any] = []
    for i in range(len(data)):
        try:
            out.append(_per_row(model.predict(data[i : i + 1]), 1)[0])
        except Exception as exc:  # recorded as this row's answer
            out.append({"offline error": f"{type(exc).__name__}: {exc}"})
    return out


def same_answer(offline: Any, served: Any) -> bool:
    """Labels and other exact values equal; floats within a relative 1e-9 (one prediction
    on a batch and one on a single row may differ in the last bits)."""
    if isinstance(offline, list) and isinstance(served, list):
        return len(offline) == len(served) and all(map(same_answer, offline, served))
    if isinstance(offline, dict) and isinstance(served, dict):
        return offline.keys() == served.keys() and all(
            same_answer(offline[k], served[k]) for k in offline
        )
    numbers = (int, float)
    if (
        isinstance(offline, numbers)
        and isinstance(served, numbers)
        and not isinstance(offline, bool)
        and not isinstance(served, bool)
        and (isinstance(offline, float) or isinstance(served, float))
    ):
        if math.isnan(offline) or math.isnan(served):
            return math.isnan(offline) and math.isnan(served)
        return math.isclose(offline, served, rel_tol=1e-9, abs_tol=1e-12)
    return type(offline) is type(served) and bool(offline == served)


def _rows(
    client: Client,
    model: LoadedModel,
    *,
    workspace: str,
    environment: str,
    rows: int,
    dataset: str | None,
) -> tuple[Any, str]:
    """(the rows to replay, as the model takes them; where they come from)."""
    signature = model.signature
    if dataset is not None:
        where = f"dataset {dataset} of '{environment}'"
        frame: Any = client.load_dataset(
            dataset, workspace=workspace, environment=environment, as_="dataframe"
        )
        if signature is not None and signature.inputs.kind == "dataframe":
            cols = [c.name for c in signature.inputs.columns]
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise InvalidInput(
                    f"{where} has no column {', '.join(repr(c) for c in missing)} of the "
                    "model's signature"
                )
            frame = frame[cols]
        elif signature is not None:
            frame = frame.to_numpy()
        return frame[:rows], where
    if model.manifest.input_example is None:
        raise InvalidInput(
            f"{model.uri} was registered without an input example, so there are no rows to "
            "replay: set the smoke gate's dataset (a dataset version of the target)"
        )
    return parse_payload(model.manifest.input_example, signature)[:rows], (
        f"input example of {model.uri}"
    )


def _requests(data: Any) -> list[bytes]:
    """One ``/invocations`` body per row, its values exactly the row's."""
    payload = example_payload(data, rows=None)
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        return [
            orjson.dumps({"dataframe_split": {"columns": split["columns"], "data": [row]}})
            for row in split["data"]
        ]
    return [orjson.dumps({"inputs": [row]}) for row in payload["inputs"]]


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest rank: the smallest value with at least ``q`` percent of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def smoke_test(
    client: Client,
    *,
    settings: Settings,
    workspace: str,
    environment: str,
    source: str,
    model: str,
    version: int,
    principal: str,
    rows: int,
    dataset: str | None,
    work: Path,
    source_workspace: str | None = None,
) -> dict[str, Any]:
    """Evidence of the smoke test of ``models:/model/version`` entering ``environment``: an
    ``error`` when it could not be run at all, else the statuses, latencies and mismatches."""
    started = time.perf_counter()
    uri = model_uri(model, version)
    home = source_workspace or workspace  # another one when promoting across workspaces
    try:
        info = client.get_model_version(uri, workspace=home)
        loaded = client.load_model(uri, workspace=home)
        data, where = _rows(
            client,
            loaded,
            workspace=workspace,
            environment=environment,
            rows=rows,
            dataset=dataset,
        )
        if len(data) == 0:
            raise InvalidInput(f"{where} holds no rows")
        offline = _offline(loaded, data)
    except ModelwrightError as exc:
        return {"error": exc.message, "rows": 0}
    bodies = _requests(data)
    prepared = time.perf_counter()
    # The version is not available in the target until the promotion ends, so the worker
    # loads it as the requester where it is available (the source environment), while
    # everything else, the rows above included, is read acting in the target.
    spec = WorkerSpec(
        fd=-1,
        workspace=home,
        environment=source,
        endpoint="smoke",
        deployment=f"{model}-{version}",
        model_uri=uri,
        version=version,
        digest=info.digest,
        config=ServingConfig(),
        principal=principal,
    )
    server = TemporaryServer(
        spec, worker_env(settings, f"{workspace}/{environment}"), work / f"smoke-{version}.log"
    )
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    mismatches: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    with _stopped_by_sigterm():
        try:
            try:
                server.start()
            except SmokeFailed as exc:
                return {"error": f"{uri} could not be served: {exc}", "rows": 0, "source": where}
            replay = time.perf_counter()
            with httpx.Client(base_url=server.url, timeout=REQUEST_TIMEOUT) as http:
                for i, body in enumerate(bodies):
                    sent = time.perf_counter()
                    try:
                        reply = http.post(
                            "/invocations",
                            content=body,
                            headers={"content-type": "application/json"},
                        )
                    except httpx.HTTPError as exc:
                        statuses["no answer"] += 1
                        failures.append({"row": i, "status": None, "message": repr(exc)})
                        continue
                    latencies.append((time.perf_counter() - sent) * 1000)
                    statuses[str(reply.status_code)] += 1
                    if not reply.is_success:
                        failures.append(
                            {"row": i, "status": reply.status_code, "message": reply.text[:500]}
                        )
                        continue
                    predictions = reply.json().get("predictions")
                    served = (
                        predictions[0]
                        if isinstance(predictions, list) and len(predictions) == 1
                        else predictions
                    )
                    if not same_answer(offline[i], served):
                        mismatches.append({"row": i, "offline": offline[i], "served": served})
            replay = time.perf_counter() - replay
        finally:
            server.stop()
    return {
        "source": where,
        "served": f"{uri} as loaded from '{source}' by '{principal}'",
        "rows": len(bodies),
        "statuses": dict(sorted(statuses.items())),
        "failed_requests": len(failures),
        "failure_examples": failures[:EXAMPLES],
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "max_ms": max(latencies, default=None),
        "mismatches": len(mismatches),
        "mismatch_examples": mismatches[:EXAMPLES],
        "prepare_s": prepared - started,
        "startup_s": server.startup_s,
        "replay_s": replay,
        "teardown_s": server.teardown_s,
        "total_s": time.perf_counter() - started,
    }
