"""Peers that the benchmarks compare modelwright with, each in a virtual environment of its own.

Standard library only at import time: the module is imported by the benchmarks (project venv)
and also run as a script by the peer's own interpreter, where modelwright is not installed:

    bench/.venvs/mlflow/bin/python bench/_peers.py mlflow-ingest --url http://127.0.0.1:PORT

The MLflow venv is made on first use from ``bench/requirements-mlflow.txt`` (PyPI through pip,
nothing else); its server listens on 127.0.0.1 only and is stopped when the block ends.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
VENVS = BENCH / ".venvs"  # git-ignored
MLFLOW_REQUIREMENTS = BENCH / "requirements-mlflow.txt"

# No telemetry or other calls home from the peer: the only network here is loopback.
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "PYTHONWARNINGS": "ignore",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail early if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}:\n{_tail(log)}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url} within {timeout:.0f} s; see {log}")


def wait_idle(proc: subprocess.Popen[bytes], timeout: float = 90.0, busy: float = 0.1) -> float:
    """Wait until the processes of ``proc``'s session (it was started with
    ``start_new_session=True``: the server and every worker or helper it spawned) use less
    than ``busy`` of a CPU for two seconds in a row, so that start-up work (imports,
    migrations, MLflow's job runner) is not measured. Returns the seconds waited."""
    started = time.monotonic()
    tick = os.sysconf("SC_CLK_TCK")
    quiet = 0
    last = _session_cpu(proc.pid)
    while time.monotonic() - started < timeout and quiet < 2:
        time.sleep(1.0)
        now = _session_cpu(proc.pid)
        quiet = quiet + 1 if (now - last) / tick < busy else 0
        last = now
    return time.monotonic() - started


def _session_cpu(sid: int) -> int:
    """CPU ticks (user + system) used so far by the live processes of session ``sid``."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp, session, ... utime (12th), stime (13th).
        if int(fields[3]) == sid:
            total += int(fields[11]) + int(fields[12])
    return total


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started with ``start_new_session=True`` and its workers (its own group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- MLflow ------------------------------------------------------------------------------------
def mlflow_pin() -> str:
    """The version pinned in requirements-mlflow.txt (``mlflow==X``)."""
    for raw in MLFLOW_REQUIREMENTS.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("mlflow=="):
            return line.removeprefix("mlflow==")
    raise RuntimeError(f"{MLFLOW_REQUIREMENTS} pins no mlflow==VERSION")


def mlflow_venv(log: Any = print) -> Path:
    """The python of ``bench/.venvs/mlflow`` at the pinned version, made or updated if needed."""
    pin = mlflow_pin()
    venv = VENVS / "mlflow"
    python = venv / "bin" / "python"
    if python.exists() and _installed_mlflow(python) == pin:
        return python
    if not python.exists():
        log(f"creating {venv} (python -m venv)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    log(f"installing mlflow=={pin} from PyPI into it (about 2 minutes, once)")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(MLFLOW_REQUIREMENTS)],
        check=True,
    )
    if _installed_mlflow(python) != pin:
        raise RuntimeError(f"mlflow=={pin} did not install into {venv}")
    return python


def _installed_mlflow(python: Path) -> str | None:
    done = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('mlflow'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


@contextlib.contextmanager
def mlflow_server(python: Path, scratch: Path) -> Iterator[str]:
    """``mlflow server`` over SQLite in ``scratch`` on a free loopback port, with its defaults
    (uvicorn, 4 workers, its job runner); yields its URL once it answers and has settled."""
    scratch.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = scratch / "mlflow-server.log"
    cmd = [
        str(python.parent / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{scratch / 'mlflow.db'}",
        "--artifacts-destination",
        str(scratch / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=scratch,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **QUIET_ENV},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/health", proc, timeout=120, log=log)
        waited = wait_idle(proc, timeout=120)
        print(f"mlflow server idle after {waited:.0f} s", flush=True)
        yield url
    finally:
        stop(proc)


def run_mlflow_ingest(python: Path, url: str, **options: Any) -> dict[str, Any]:
    """Run ``mlflow_ingest`` below in the MLflow venv; return its JSON result."""
    cmd = [str(python), str(Path(__file__).resolve()), "mlflow-ingest", "--url", url]
    for name, value in options.items():
        cmd += [f"--{name.replace('_', '-')}", str(value)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **QUIET_ENV}, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"MLflow client failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mlflow_ingest(argv: list[str]) -> dict[str, Any]:
    """The MLflow side, run by the MLflow venv's python against its tracking server.

    Each repeat logs into a new run: ``MlflowClient.log_metric`` once per point (synchronous,
    one HTTP request each), ``log_batch`` of ``--batch`` ``Metric`` entities per request, and
    then reads every point back with ``get_metric_history`` and checks count and steps.
    """
    parser = argparse.ArgumentParser(prog="mlflow-ingest")
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=2_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--raw-calls", type=int, default=100)
    args = parser.parse_args(argv)

    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    client = MlflowClient(tracking_uri=args.url)
    experiment = client.create_experiment(f"bench-ingest-{uuid.uuid4().hex[:8]}")

    def readback(run_id: str, n: int) -> float:
        started = time.perf_counter()
        history = client.get_metric_history(run_id, "m")
        seconds = time.perf_counter() - started
        steps = sorted(m.step for m in history)
        if len(history) != n or steps != list(range(n)):
            raise AssertionError(f"MLflow read back {len(history)} points of {n}")
        if any(m.value != float(m.step) for m in history):
            raise AssertionError("MLflow read back a wrong value")
        return seconds

    # Warm-up: connection, experiment and code paths, untimed.
    warm = client.create_run(experiment).info.run_id
    client.log_metric(warm, "m", 0.0, step=0)
    client.log_batch(warm, metrics=[Metric("w", 0.0, int(time.time() * 1000), 0)])
    client.get_metric_history(warm, "m")

    per_call: list[float] = []
    per_call_read: list[float] = []
    batch: list[float] = []
    batch_read: list[float] = []
    raw: dict[str, list[float]] = {
        "raw_plain": [],
        "raw_plain_wait": [],
        "raw_quickack": [],
        "raw_quickack_wait": [],
    }
    for _ in range(args.repeats):
        for quickack, name in ((False, "raw_plain"), (True, "raw_quickack")):
            run_id = client.create_run(experiment).info.run_id
            took, wait = _raw_log_metric(args.url, run_id, args.raw_calls, quickack=quickack)
            raw[name].append(took)
            raw[f"{name}_wait"].append(wait)
            readback(run_id, args.raw_calls)
            client.set_terminated(run_id)

        run_id = client.create_run(experiment).info.run_id
        started = time.perf_counter()
        for i in range(args.calls):
            client.log_metric(run_id, "m", float(i), step=i)
        per_call.append(time.perf_counter() - started)
        per_call_read.append(readback(run_id, args.calls))
        client.set_terminated(run_id)

        run_id = client.create_run(experiment).info.run_id
        started = time.perf_counter()
        for first in range(0, args.points, args.batch):
            ts = int(time.time() * 1000)
            last = min(first + args.batch, args.points)
            client.log_batch(
                run_id, metrics=[Metric("m", float(i), ts, i) for i in range(first, last)]
            )
        batch.append(time.perf_counter() - started)
        batch_read.append(readback(run_id, args.points))
        client.set_terminated(run_id)

    return {
        "mlflow": mlflow.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "calls": args.calls,
        "points": args.points,
        "batch": args.batch,
        "log_metric": per_call,
        "log_metric_read": per_call_read,
        "log_batch": batch,
        "log_batch_read": batch_read,
        "raw_calls": args.raw_calls,
        **raw,
        "median_log_metric": statistics.median(per_call),
        "median_log_batch": statistics.median(batch),
    }


def _raw_log_metric(url: str, run_id: str, calls: int, *, quickack: bool) -> tuple[float, float]:
    """MLflow's log-metric endpoint driven by a bare ``http.client`` connection (TCP_NODELAY),
    without MLflow's client: (seconds for ``calls`` requests, median seconds between a
    response's headers and the end of its body).

    A diagnostic, to tell MLflow's per-call cost from a TCP stall: its server's response body
    reaches the client tens of milliseconds after the headers (the delayed-ACK time). With
    ``quickack``, TCP_QUICKACK is set before each read so that the client ACKs at once, and
    what is left is the server's own work and the round trips.
    """
    import http.client

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.connect()
    sock = conn.sock
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    option = getattr(socket, "TCP_QUICKACK", 12)
    headers = {"Content-Type": "application/json"}
    waits = []
    started = time.perf_counter()
    for i in range(calls):
        point = {"run_id": run_id, "key": "m", "value": float(i), "step": i}
        body = json.dumps({**point, "timestamp": int(time.time() * 1000)})
        conn.request("POST", "/api/2.0/mlflow/runs/log-metric", body=body, headers=headers)
        if quickack:
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)
        response = conn.getresponse()
        got_headers = time.perf_counter()
        if quickack:
            sock.setsockopt(socket.IPPROTO_TCP, option, 1)
        response.read()
        waits.append(time.perf_counter() - got_headers)
        if response.status != 200:
            raise RuntimeError(f"MLflow log-metric answered {response.status}")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, statistics.median(waits)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "mlflow-ingest":
        sys.exit("usage: _peers.py mlflow-ingest --url URL [--calls N] [--points N] ...")
    print(json.dumps(mlflow_ingest(sys.argv[2:])))
