"""Model serving: modelwright's model server against ``mlflow models serve``, over HTTP.

    .venv/bin/python bench/bench_serving.py [--quick] [--workers 1 2] [--duration 10]
        [--repeats 3] [--skip-mlflow] [--target model-server|router] [--router-url URL]

``--quick`` is a smoke run (3 s points, one repeat, a short rate ladder): its figures are
not for publishing. The full run takes about 20 minutes on two cores.

Run on demand, never in CI. Needs ``wrk`` (Debian: ``apt-get install -y wrk``). The model is
the one of ``bench_registry.py``: StandardScaler + LogisticRegression over 30 numeric columns
fitted on 569 synthetic rows (the shape of scikit-learn's breast-cancer set; NumPy's seeded
generator, nothing downloaded), fitted the same way on both sides.

* modelwright: registered in an embedded home (``modelwright.connect(home)``, ``start_run``,
  ``log_model(..., registered_model_name="pipeline")``) and served by uvicorn with
  ``--workers N`` on the factory ``serving_app`` below, which loads the version with
  ``client.load_model(uri)`` and returns ``create_model_app(model, ...)``: the default
  ``ServingConfig`` and micro-batching (``max_batch_size=32, max_latency_ms=2``).
* MLflow (pinned in ``bench/requirements-mlflow.txt``, venv ``bench/.venvs/mlflow`` made by
  ``_peers.py``): logged and registered by this file run in its venv (``mlflow-log``), then
  ``mlflow models serve -m models:/pipeline/1 --env-manager local`` with its defaults (one
  worker) and with ``--workers N``.

Both answer ``POST /invocations`` with ``{"dataframe_split": {"columns": [...], "data":
[[...]]}}``; before any timing, one row and 100 rows are sent to each server and must come
back with the fitted model's predictions. Load: a closed loop by ``wrk`` (one thread, 1, 10
and 32 connections, keep-alive) and an open loop at fixed rates by the paced generator of
this file (``paced``, its own process; latency counted from each request's scheduled send
time, so a slow server is not hidden by a generator that waits for it), then 100-row
requests one at a time. The load generators run on the same machine as the servers.

Prints a Markdown section and writes it to ``bench/.data/serving.md``; docs/benchmarks.md is
not touched.

The endpoint router of ``modelwright serve`` is not measured yet: ``--target router`` is the
place for it (see ``router_target``). ``--router-url`` measures a router already running
and serving the same model, at ``http://HOST:PORT/endpoints/{workspace}/{environment}/
{endpoint}`` (requests go to ``.../invocations``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _peers
from bench_report import wrap as _wrap

BENCH = Path(__file__).resolve().parent
SCRATCH = BENCH / ".data"  # git-ignored
OUTPUT = SCRATCH / "serving.md"
HEADING = "## Model serving: the model server against `mlflow models serve`"

TARGET_THROUGHPUT = 10.0  # × MLflow's maximum, same workers, at a p99 below MLflow's there
TARGET_BATCH = 5.0  # a 100-row request × faster than MLflow's
MODEL = "pipeline"
BIG_ROWS = 100
CONCURRENCY = (1, 10, 32)
RATES = (25, 50, 100, 200, 400, 800, 1_600, 3_200, 6_400)  # offered req/s, climbed until saturated
BATCHING = {"max_batch_size": 32, "max_latency_ms": 2.0}

# How the factory below finds its model (read in each uvicorn worker process).
ENV_DIR = "BENCH_SERVING_DIR"
ENV_DIGEST = "BENCH_SERVING_DIGEST"
ENV_URI = "BENCH_SERVING_URI"
ENV_CONFIG = "BENCH_SERVING_CONFIG"
ENV_CAPTURE = "BENCH_SERVING_CAPTURE"  # a datastore URL: capture every request there


# -- the modelwright model server (imported by each uvicorn worker) ---------------------------
def serving_app() -> Any:
    """uvicorn factory (``--factory bench_serving:serving_app``): the registered version
    ``$BENCH_SERVING_URI``, whose files the benchmark fetched into the download cache with
    ``client.download_model`` (``$BENCH_SERVING_DIR``, digest ``$BENCH_SERVING_DIGEST``),
    loaded as ``client.load_model`` then does (every file's sha256 checked against the
    manifest, the manifest's against the registry's digest) and served with the
    ``ServingConfig`` given as JSON in ``$BENCH_SERVING_CONFIG``. Each worker imports the
    registry and serving packages only, not the client and its services."""
    from modelwright.registry.artifact import load_dir
    from modelwright.registry.predict import LoadedModel
    from modelwright.serving import ServingConfig, create_model_app

    uri, digest = os.environ[ENV_URI], os.environ[ENV_DIGEST]
    config = ServingConfig.model_validate_json(os.environ.get(ENV_CONFIG) or "{}")
    raw, manifest = load_dir(Path(os.environ[ENV_DIR]), expected_digest=digest, trusted=True)
    model = LoadedModel(raw=raw, manifest=manifest, digest=digest, uri=uri)
    name, version = uri.removeprefix("models:/").split("/")
    capture = None
    if os.environ.get(ENV_CAPTURE):
        from modelwright.serving.capture import Capture

        capture = Capture(
            os.environ[ENV_CAPTURE], endpoint="bench", deployment="d", model=uri, rate=1.0
        )
    return create_model_app(model, name=name, version=version, config=config, capture=capture)


# -- the model and the request bodies (the same on both sides) --------------------------------
def rows(n: int) -> tuple[list[str], list[list[float]]]:
    import numpy as np

    rng = np.random.default_rng(2024)
    scale = rng.uniform(0.1, 100.0, size=30)
    data = rng.normal(size=(n, 30)) * scale + scale
    return [f"f{i:02d}" for i in range(30)], [[float(v) for v in row] for row in data]


def body(n: int) -> bytes:
    columns, data = rows(n)
    return json.dumps({"dataframe_split": {"columns": columns, "data": data}}).encode()


def expected(model: Any, n: int) -> list[int]:
    import pandas as pd

    columns, data = rows(n)
    return [int(v) for v in model.predict(pd.DataFrame(data, columns=columns))]


# -- MLflow (its venv, a subprocess running this file) ----------------------------------------
def mlflow_log(argv: list[str]) -> None:
    from bench_registry import build

    parser = argparse.ArgumentParser(prog="mlflow-log")
    parser.add_argument("--tracking", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--expected", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    import mlflow
    import sklearn

    mlflow.set_tracking_uri(args.tracking)
    experiment = mlflow.create_experiment("bench", artifact_location=args.artifacts)
    model, frame = build(MODEL, 0)
    want = json.loads(args.expected.read_text())
    if expected(model, BIG_ROWS) != want:
        raise AssertionError("MLflow side: the pipeline was not fitted to the same model")
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=frame.head(5), registered_model_name=MODEL
        )
    out = {
        "uri": f"models:/{MODEL}/{info.registered_model_version}",
        "version": mlflow.__version__,
        "sklearn": sklearn.__version__,
    }
    args.out.write_text(json.dumps(out))


def mlflow_register(python: Path, work: Path, want: list[int]) -> dict[str, Any]:
    work.mkdir(parents=True)
    (work / "expected.json").write_text(json.dumps(want))
    cmd = [str(python), str(Path(__file__).resolve()), "mlflow-log"]
    cmd += ["--tracking", mlflow_tracking(work), "--artifacts", (work / "mlartifacts").as_uri()]
    cmd += ["--expected", str(work / "expected.json"), "--out", str(work / "result.json")]
    done = subprocess.run(
        cmd, cwd=work, env=peer_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"MLflow logging failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads((work / "result.json").read_text())


def mlflow_tracking(work: Path) -> str:
    return f"sqlite:///{work / 'mlflow.db'}"


def peer_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELWRIGHT_", "MLFLOW_"))}
    return {**env, **_peers.QUIET_ENV}


# -- targets: a server started for a block, with its URL ---------------------------------------
@dataclass
class Target:
    system: str  # "modelwright" or "MLflow"
    workers: int
    config: str  # shown in the tables
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    url: str | None = None  # an already running server: nothing is started
    path: str = ""  # before /invocations: the router's /endpoints/{ws}/{env}/{endpoint}

    @property
    def label(self) -> str:
        return f"{self.system}, {self.workers} worker{'s' * (self.workers > 1)}, {self.config}"


def modelwright_targets(model: dict[str, str], workers: int) -> list[Target]:
    env = {**os.environ, ENV_DIR: model["dir"], ENV_DIGEST: model["digest"], ENV_URI: model["uri"]}
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench_serving:serving_app"]
    cmd += ["--app-dir", str(BENCH), "--workers", str(workers), "--host", "127.0.0.1"]
    cmd += ["--log-level", "warning", "--no-access-log"]
    batching = json.dumps(BATCHING)
    return [
        Target("modelwright", workers, "default", cmd, {**env, ENV_CONFIG: "{}"}),
        Target(
            "modelwright",
            workers,
            "batch {max_batch_size}/{max_latency_ms:g} ms".format(**BATCHING),
            cmd,
            {**env, ENV_CONFIG: batching},
        ),
    ]


def mlflow_target(python: Path, work: Path, uri: str, workers: int | None) -> Target:
    cmd = [str(python.parent / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"]
    cmd += ["-h", "127.0.0.1"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    config = f"--workers {workers}" if workers is not None else "defaults"
    env = {**peer_env(), "MLFLOW_TRACKING_URI": mlflow_tracking(work)}
    # As with the venv activated: MLflow runs `uvicorn` from PATH.
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return Target("MLflow", workers or 1, config, cmd, env, cwd=work)


def router_target(router_url: str, workers: int) -> Target:
    """A router already running on ``router_url`` = ``http://HOST:PORT/endpoints/{workspace}/
    {environment}/{endpoint}``, whose endpoint serves the same model."""
    return Target("modelwright router", workers, "modelwright serve", url=router_url.rstrip("/"))


def serve_target(home: Path, endpoint: str, workers: int) -> Target:
    """``modelwright serve``: the endpoint router in front of the deployment's supervised
    worker processes (the deployment made by ``serve_endpoints``), default serving config."""
    cmd = [sys.executable, "-m", "modelwright", "serve", "-w", "default", "-e", "dev"]
    cmd += ["--poll", "30"]
    env = {**os.environ, "MODELWRIGHT_HOME": str(home)}
    return Target(
        "modelwright serve",
        workers,
        "router + default",
        cmd,
        env,
        path=f"/endpoints/default/dev/{endpoint}",
    )


def serve_endpoints(client: Any, version: int, workers: list[int]) -> dict[int, str]:
    """One endpoint per worker count, each with one deployment of the model taking all traffic."""
    names = {}
    for w in workers:
        name = f"bench-{w}w"
        client.create_endpoint(name, workspace="default", environment="dev")
        client.deploy(
            name,
            "main",
            MODEL,
            version,
            config={"workers": w},
            workspace="default",
            environment="dev",
        )
        names[w] = name
    return names


@contextlib.contextmanager
def running(target: Target, scratch: Path) -> Iterator[tuple[str, int]]:
    """Start ``target`` on a free loopback port; yield (base URL, session id) once it answers
    and its processes are idle; stop every process it started when the block ends."""
    if target.url is not None:
        yield target.url, 0
        return
    port = _peers.free_port()
    log = scratch / f"server-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*target.cmd, "--port", str(port)],
            cwd=target.cwd or scratch,
            env=target.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _peers.wait_http(f"{base}/ping", proc, timeout=180, log=log)
        _peers.wait_idle(proc, timeout=120)
        yield base, proc.pid
    finally:
        _peers.stop(proc)


def settle(sid: int, timeout: float = 60.0, busy: float = 0.1) -> None:
    """Wait until the server's processes are idle again: a server still working off requests
    that the last generator gave up on would slow the next point."""
    if not sid:
        return
    tick = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    last = _peers._session_cpu(sid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _peers._session_cpu(sid)
        if (now - last) / tick < busy * 0.5:
            return
        last = now


def post(url: str, data: bytes) -> Any:
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# -- CPU used by other work on the machine ----------------------------------------------------
class CpuMeter:
    """Cores kept busy by processes other than this benchmark's (its own process, its
    generators and the server under test) between two snapshots."""

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK")

    def snapshot(self, server_sid: int) -> tuple[float, float, float]:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        values = [int(v) for v in fields]
        busy = (sum(values) - values[3] - values[4]) / self.tick  # all but idle and iowait
        own = os.times()
        ours = own.user + own.system + own.children_user + own.children_system
        if server_sid:
            ours += _peers._session_cpu(server_sid) / self.tick
        return time.monotonic(), busy, ours

    @staticmethod
    def other(before: tuple[float, float, float], after: tuple[float, float, float]) -> float:
        wall = after[0] - before[0]
        return max(0.0, (after[1] - before[1]) - (after[2] - before[2])) / wall if wall else 0.0


# -- load: wrk (closed loop) and the paced generator (open loop) ------------------------------
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("%(body)s", "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p99_us\\": %%d, \\"connect\\": %%d, \\"read\\": %%d, \\"write\\": %%d, " ..
    "\\"status\\": %%d, \\"timeout\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass
class Point:
    mode: str  # "closed" (wrk) or "open" (paced)
    level: int  # connections, or offered req/s
    achieved: float  # successful responses per second
    p50_ms: float
    p99_ms: float
    errors: int
    other_cores: float  # other work on the machine meanwhile
    detail: dict[str, Any] = field(default_factory=dict)


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    cmd += ["-s", str(script), url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK-RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out = json.loads(line.removeprefix("WRK-RESULT "))
    out["errors"] = sum(out[k] for k in ("connect", "read", "write", "status", "timeout"))
    out["achieved"] = (out["requests"] - out["status"]) / (out["duration_us"] / 1e6)
    return out


def closed_loop(
    url: str, script: Path, connections: int, args: argparse.Namespace, sid: int
) -> Point:
    wrk(url, script, connections, args.warmup)
    meter = CpuMeter()
    runs, other = [], []
    for _ in range(args.repeats):
        before = meter.snapshot(sid)
        runs.append(wrk(url, script, connections, args.duration))
        other.append(meter.other(before, meter.snapshot(sid)))
    return Point(
        "closed",
        connections,
        statistics.median(r["achieved"] for r in runs),
        statistics.median(r["p50_us"] for r in runs) / 1e3,
        statistics.median(r["p99_us"] for r in runs) / 1e3,
        sum(r["errors"] for r in runs),
        statistics.median(other),
        {"achieved": [r["achieved"] for r in runs]},
    )


def open_loop(
    url: str, data: Path, rate: int, args: argparse.Namespace, sid: int, scratch: Path
) -> Point:
    out = scratch / f"paced-{uuid.uuid4().hex[:6]}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "paced", "--url", url]
    cmd += ["--body", str(data), "--rate", str(rate), "--out", str(out)]
    meter = CpuMeter()
    subprocess.run([*cmd, "--duration", f"{args.warmup:g}"], check=True, capture_output=True)
    settle(sid)  # a saturated warm-up leaves a backlog behind
    before = meter.snapshot(sid)
    subprocess.run([*cmd, "--duration", f"{args.duration:g}"], check=True, capture_output=True)
    other = meter.other(before, meter.snapshot(sid))
    got = json.loads(out.read_text())
    return Point(
        "open",
        rate,
        got["achieved"],
        got["p50_ms"],
        got["p99_ms"],
        sum(got["errors"].values()),
        other,
        got,
    )


def paced(argv: list[str]) -> None:
    """The open-loop generator (its own process): ``--rate`` requests a second for
    ``--duration`` seconds, each sent at its scheduled time on an idle keep-alive connection
    (a new one if none is idle, at most ``--connections``). Latency runs from the scheduled
    time, so waiting for a connection counts. Achieved is successful responses completed
    within the window, per second; requests still unanswered ``--drain`` seconds after the
    window are errors."""
    parser = argparse.ArgumentParser(prog="paced")
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--drain", type=float, default=5.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    result = asyncio.run(_paced(args))
    args.out.write_text(json.dumps(result))


async def _paced(args: argparse.Namespace) -> dict[str, Any]:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    data = args.body.read_bytes()
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode() + data
    loop = asyncio.get_running_loop()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    slots = asyncio.Semaphore(args.connections)
    latencies: list[float] = []
    lags: list[float] = []
    errors: Counter[str] = Counter()
    in_window = 0
    total = int(args.rate * args.duration)
    start = loop.time() + 0.05
    end = start + args.duration

    async def one(scheduled: float) -> None:
        nonlocal in_window
        async with slots:
            if idle:
                reader, writer = idle.pop()
            else:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError as exc:
                    errors[f"connect: {type(exc).__name__}"] += 1
                    return
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                writer.write(request)
                status, keep = await _response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[f"read: {type(exc).__name__}"] += 1
                writer.close()
                return
            done = loop.time()
            if keep:
                idle.append((reader, writer))
            else:
                writer.close()
        if status != 200:
            errors[f"http {status}"] += 1
            return
        latencies.append(done - scheduled)
        if done <= end:
            in_window += 1

    tasks = []
    for i in range(total):
        scheduled = start + i / args.rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(loop.time() - scheduled)
        tasks.append(asyncio.create_task(one(scheduled)))
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, end - loop.time()) + args.drain)
    for task in pending:
        task.cancel()
    if pending:
        errors["unanswered"] += len(pending)
    for _, writer in idle:
        writer.close()
    latencies.sort()
    lags.sort()

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1e3 if values else float("nan")

    return {
        "offered": args.rate,
        "sent": total,
        "ok": len(latencies),
        "achieved": in_window / args.duration,
        "p50_ms": pct(latencies, 0.50),
        "p99_ms": pct(latencies, 0.99),
        "errors": dict(errors),
        "send_lag_p99_ms": pct(lags, 0.99),
    }


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep = None, True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            keep = False
    if length is None:
        raise ValueError("a response without Content-Length")
    await reader.readexactly(length)
    return status, keep


# -- one target: check, then measure ---------------------------------------------------------
@dataclass
class Result:
    target: Target
    closed: list[Point] = field(default_factory=list)
    open: list[Point] = field(default_factory=list)
    big: Point | None = None  # 100-row requests, one at a time


def measure(
    target: Target,
    files: dict[str, Path],
    want: dict[int, list[int]],
    args: argparse.Namespace,
    scratch: Path,
    log: Any,
) -> Result:
    result = Result(target)
    with running(target, scratch) as (base, sid):
        url = f"{base}{target.path}/invocations"
        for n in (1, BIG_ROWS):
            got = post(url, files[f"body{n}"].read_bytes())["predictions"]
            if [int(v) for v in got] != want[n]:
                raise AssertionError(f"{target.label}: wrong predictions for {n} rows: {got}")
        for c in CONCURRENCY:
            log(f"{target.label}: closed loop, {c} connection{'s' * (c > 1)}")
            result.closed.append(closed_loop(url, files["lua1"], c, args, sid))
            settle(sid)
        rates = args.rates or RATES
        for rate in rates:
            log(f"{target.label}: open loop at {rate} req/s")
            point = open_loop(url, files["body1"], rate, args, sid, scratch)
            result.open.append(point)
            settle(sid)
            if point.achieved < 0.9 * rate:  # saturated: higher rates tell no more
                break
        log(f"{target.label}: {BIG_ROWS}-row requests, one at a time")
        result.big = closed_loop(url, files[f"lua{BIG_ROWS}"], 1, args, sid)
    return result


# -- report -----------------------------------------------------------------------------------
def _ms(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def _rps(value: float) -> str:
    return f"{value:,.0f}"


def _errors(point: Point) -> str:
    if not point.errors:
        return "0"
    kinds = point.detail.get("errors")
    if isinstance(kinds, dict):
        return f"{point.errors:,} ({', '.join(f'{k}: {v:,}' for k, v in sorted(kinds.items()))})"
    return f"{point.errors:,}"


def closed_table(results: list[Result]) -> str:
    lines = [
        "| target | workers | config | connections | achieved (req/s) | p50 (ms) | p99 (ms) | "
        "errors | each repeat (req/s) | other work (cores) |",
        "|---|--:|---|--:|--:|--:|--:|--:|---|--:|",
    ]
    for r in results:
        for p in r.closed:
            each = " / ".join(_rps(v) for v in p.detail["achieved"])
            lines.append(
                f"| {r.target.system} | {r.target.workers} | {r.target.config} | {p.level} | "
                f"{_rps(p.achieved)} | {_ms(p.p50_ms)} | {_ms(p.p99_ms)} | {_errors(p)} | "
                f"{each} | {p.other_cores:.2f} |"
            )
    return "\n".join(lines)


def open_table(results: list[Result]) -> str:
    lines = [
        "| target | workers | config | offered (req/s) | achieved (req/s) | p50 (ms) | "
        "p99 (ms) | errors | generator lag p99 (ms) | other work (cores) |",
        "|---|--:|---|--:|--:|--:|--:|---|--:|--:|",
    ]
    for r in results:
        for p in r.open:
            lines.append(
                f"| {r.target.system} | {r.target.workers} | {r.target.config} | {p.level:,} | "
                f"{_rps(p.achieved)} | {_ms(p.p50_ms)} | {_ms(p.p99_ms)} | {_errors(p)} | "
                f"{_ms(p.detail['send_lag_p99_ms'])} | {p.other_cores:.2f} |"
            )
    return "\n".join(lines)


def big_table(results: list[Result]) -> str:
    lines = [
        f"| target | workers | config | p50 (ms) | p99 (ms) | req/s | {BIG_ROWS} rows × MLflow |",
        "|---|--:|---|--:|--:|--:|--:|",
    ]
    theirs = [r.big for r in results if r.target.system == "MLflow" and r.big]
    base = statistics.median(p.p50_ms for p in theirs) if theirs else None
    for r in results:
        if r.big is None:
            continue
        ratio = f"{base / r.big.p50_ms:,.1f}×" if base and r.target.system != "MLflow" else ""
        lines.append(
            f"| {r.target.system} | {r.target.workers} | {r.target.config} | "
            f"{_ms(r.big.p50_ms)} | {_ms(r.big.p99_ms)} | {_rps(r.big.achieved)} | {ratio} |"
        )
    return "\n".join(lines)


def best_table(results: list[Result]) -> str:
    """Which modelwright config did better at each concurrency and worker count."""
    lines = [
        "| workers | connections | default (req/s, p99 ms) | batching (req/s, p99 ms) | better |",
        "|--:|--:|---|---|---|",
    ]
    for workers in sorted({r.target.workers for r in results}):
        mine = [
            r for r in results if r.target.system == "modelwright" and r.target.workers == workers
        ]
        if len(mine) != 2:
            continue
        default, batch = mine
        for a, b in zip(default.closed, batch.closed, strict=True):
            # Better: more throughput, unless it costs a worse p99 for a gain within 5 %.
            if b.achieved > a.achieved * 1.05 or (
                b.achieved >= a.achieved * 0.95 and b.p99_ms < a.p99_ms
            ):
                better = "batching"
            else:
                better = "default"
            lines.append(
                f"| {workers} | {a.level} | {_rps(a.achieved)}, {_ms(a.p99_ms)} | "
                f"{_rps(b.achieved)}, {_ms(b.p99_ms)} | {better} |"
            )
    return "\n".join(lines)


def targets(results: list[Result]) -> list[str]:
    lines = []
    for workers in sorted({r.target.workers for r in results}):
        theirs = [
            (p, r)
            for r in results
            if r.target.system == "MLflow" and r.target.workers == workers
            for p in r.closed
        ]
        mine = [
            (p, r)
            for r in results
            if r.target.system != "MLflow" and r.target.workers == workers
            for p in r.closed
        ]
        if not theirs or not mine:
            continue
        top, top_r = max(theirs, key=lambda x: x[0].achieved)
        under = [x for x in mine if x[0].p99_ms < top.p99_ms]
        if not under:
            lines.append(
                f"{workers} worker(s): no modelwright point had a p99 below MLflow's "
                f"{_ms(top.p99_ms)} ms at its maximum: target **missed**."
            )
            continue
        best, best_r = max(under, key=lambda x: x[0].achieved)
        ratio = best.achieved / top.achieved
        met = "met" if ratio >= TARGET_THROUGHPUT else "**missed**"
        lines.append(
            f"{workers} worker{'s' * (workers > 1)}: MLflow's maximum is {_rps(top.achieved)} "
            f"req/s ({top_r.target.config}, {_conns(top.level)}, p99 {_ms(top.p99_ms)} ms); "
            f"modelwright's best with a lower p99 is {_rps(best.achieved)} req/s "
            f"({best_r.target.config}, {_conns(best.level)}, p99 {_ms(best.p99_ms)} ms): "
            f"{ratio:,.1f}×, target ≥ {TARGET_THROUGHPUT:g}× {met}."
        )
    theirs_big = [r.big for r in results if r.target.system == "MLflow" and r.big]
    mine_big = [r for r in results if r.target.system != "MLflow" and r.big]
    if theirs_big and mine_big:
        base = statistics.median(p.p50_ms for p in theirs_big)
        default = [r.big for r in mine_big if r.target.config == "default" and r.big]
        if default:
            mine_p50 = statistics.median(p.p50_ms for p in default)
            ratio = base / mine_p50
            met = "met" if ratio >= TARGET_BATCH else "**missed**"
            lines.append(
                f"A {BIG_ROWS}-row request (p50, one at a time; modelwright's default "
                "config and MLflow, each the median over the worker counts): "
                f"{_ms(mine_p50)} ms against MLflow's {_ms(base)} ms: {ratio:,.1f}×, target "
                f"≥ {TARGET_BATCH:g}× {met}."
            )
    return lines


def _conns(n: int) -> str:
    return f"{n} connection{'s' * (n > 1)}"


def document(
    args: argparse.Namespace,
    info: dict[str, str],
    versions: dict[str, str],
    results: list[Result],
    other: float,
    elapsed: float,
) -> str:
    busy = (
        f"yes: other processes kept {other:.2f} of the {os.cpu_count()} cores busy on average "
        "during the run (their tests and builds); read the spread of the repeats as noise"
        if other >= 0.1
        else f"no (other processes used {other:.2f} cores on average)"
    )
    intro = (
        "The serving issue's benchmark: one scikit-learn pipeline (StandardScaler + "
        "LogisticRegression over 30 numeric columns) served over HTTP by modelwright's model "
        "server and by `mlflow models serve`, on the same machine, one row per request. "
        "Measured by `.venv/bin/python bench/bench_serving.py` (on demand, never in CI; "
        f"{elapsed / 60:.0f} min for this run). Closed-loop points are the median of "
        f"{args.repeats} runs of {args.duration:g} s (each shown) after a {args.warmup:g} s "
        f"warm-up; open-loop points are one run of {args.duration:g} s after a short warm-up."
    )
    lines = [HEADING, ""]
    if args.quick:
        lines += [
            "> **Quick smoke run (`--quick`): short points, one repeat. Not publishable.**",
            "",
        ]
    lines += [
        _wrap(intro, bullet=False),
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {info[k]} |" for k in ("date", "cpu", "cores", "ram", "os", "load")),
        f"| other work | {busy} |",
        f"| versions | {', '.join(f'{k} {v}' for k, v in versions.items())} |",
        "",
        "Closed loop (`wrk`, one thread, keep-alive; each connection sends its next request "
        "when the last is answered):",
        "",
        closed_table(results),
        "",
        "Open loop (paced generator, fixed offered rates, climbed until the target fell below "
        "90 % of the offered rate; latency from each request's scheduled send time):",
        "",
        open_table(results),
        "",
        f"{BIG_ROWS}-row requests, one at a time (`wrk`, one connection):",
        "",
        big_table(results),
        "",
        "modelwright's two configurations, closed loop:",
        "",
        best_table(results),
        "",
        _wrap(
            f"Targets of the issue: at least {TARGET_THROUGHPUT:g}× MLflow's maximum throughput "
            "with the same number of worker processes, at a p99 below MLflow's at its own "
            f"maximum (closed-loop points); and a {BIG_ROWS}-row request at least "
            f"{TARGET_BATCH:g}× faster than MLflow's. Every server answered one row and "
            f"{BIG_ROWS} rows with the fitted model's predictions before it was timed.",
            bullet=False,
        ),
        "",
        *[_wrap(t) for t in targets(results)],
        "",
        "How each figure is taken:",
        "",
        *[_wrap(note) for note in notes(args)],
    ]
    return "\n".join(lines) + "\n"


def notes(args: argparse.Namespace) -> list[str]:
    return [
        "*Model*: StandardScaler + LogisticRegression fitted on 569 rows × 30 float columns "
        "from NumPy's seeded generator, the same code and seed on both sides (the "
        "`pipeline` model of `bench_registry.py`); logged with a 5-row input example, so both "
        "systems hold a DataFrame signature and validate each request against it.",
        "*modelwright*: registered in an embedded home (`modelwright.connect(home)`, "
        "`start_run`, `log_model(..., registered_model_name='pipeline')`); served by "
        "`python -m uvicorn --factory bench_serving:serving_app --workers N --log-level warning "
        "--no-access-log` (uvloop, httptools). The benchmark fetches the version's files "
        "with `client.download_model`; each worker loads them as `client.load_model` does "
        "(`registry.artifact.load_dir`, every sha256 checked) and serves "
        "`create_model_app(model, config=...)`. *default* is `ServingConfig()` (no batching; predict in one thread per "
        "worker); *batch* is `ServingConfig(max_batch_size={max_batch_size}, "
        "max_latency_ms={max_latency_ms:g})`.".format(**BATCHING),
        "*MLflow*: logged with `mlflow.sklearn.log_model(model, name='model', "
        "input_example=df.head(5), registered_model_name='pipeline')` (SQLite store, local "
        "artifacts), served by `mlflow models serve -m models:/pipeline/1 --env-manager "
        "local` with its defaults (one uvicorn worker, its access log, the asyncio loop and "
        "h11, as its venv has neither uvloop nor httptools) and with `--workers N`.",
        '*Requests*: `POST /invocations` with `{"dataframe_split": {"columns": [...], '
        '"data": [[...]]}}`, JSON floats, one row (or '
        f"{BIG_ROWS}); the same bytes to both servers. *Errors* count refused connections, "
        "failed reads, timeouts (10 s) and any answer other than 200 (a 503 is modelwright "
        "shedding load when a worker holds more than `max_queue` requests).",
        "*Closed loop*: `wrk -t1 -cC -dDs --timeout 10s` with a Lua script posting the body "
        "and printing wrk's own summary; *achieved* counts answers other than 4xx/5xx per "
        "second. Concurrency is the number of connections.",
        "*Open loop*: this file's `paced` mode in its own process (asyncio on uvloop, raw "
        "HTTP/1.1 keep-alive connections, at most 256): request *i* is due at *i / rate*; "
        "it waits for an idle connection if all are busy, and its latency runs from the due "
        "time. *Achieved* counts answers of 200 received within the window; requests not "
        "answered 5 s after the window count as errors. *Generator lag* is how late the "
        "generator itself sent requests; when it is large the generator, not the server, "
        "set the pace.",
        "*Other work*: cores kept busy meanwhile by processes other than the benchmark, its "
        "load generator and the server under test (from /proc/stat, less their own CPU). The "
        "load generators share the same cores as the servers, as the issue asks.",
    ]


# -- main -------------------------------------------------------------------------------------
def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run, not publishable")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=float, default=None, help="seconds per point")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before each point")
    parser.add_argument("--repeats", type=int, default=None, help="closed-loop runs per point")
    parser.add_argument("--rates", type=int, nargs="+", default=None, help="offered req/s")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--target", choices=["model-server", "router"], default="model-server")
    parser.add_argument(
        "--router",
        action="store_true",
        help="also measure `modelwright serve` (router + supervised workers) at each worker count",
    )
    parser.add_argument(
        "--router-url",
        default=None,
        help="with --target router: http://HOST:PORT/endpoints/{workspace}/{environment}/"
        "{endpoint} of a running `modelwright serve` serving the same model",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    args.duration = args.duration or (3.0 if args.quick else 10.0)
    args.warmup = args.warmup or (1.0 if args.quick else 2.0)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.quick and args.rates is None:
        args.rates = [100, 400, 1_600]
    if args.target == "router" and not args.router_url:
        parser.error(
            "--target router needs --router-url (starting `modelwright serve` from here is "
            "not done yet)"
        )
    return args


def main() -> int:
    args = _parse()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: on Debian, apt-get install -y wrk")
    for name in [k for k in os.environ if k.startswith("MODELWRIGHT_")]:
        del os.environ[name]
    import bench_report

    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    mlflow_python = None if args.skip_mlflow else _peers.mlflow_venv(log)
    scratch = SCRATCH / f"serving-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    load_before = bench_report.load_average()
    started = time.monotonic()
    meter = CpuMeter()
    first = meter.snapshot(0)
    results: list[Result] = []
    try:
        from bench_registry import build

        import modelwright

        model, frame = build(MODEL, 0)
        want = {n: expected(model, n) for n in (1, BIG_ROWS)}
        files: dict[str, Path] = {}
        for n in (1, BIG_ROWS):
            files[f"body{n}"] = scratch / f"body-{n}.json"
            files[f"body{n}"].write_bytes(body(n))
            files[f"lua{n}"] = scratch / f"post-{n}.lua"
            files[f"lua{n}"].write_text(WRK_SCRIPT % {"body": files[f"body{n}"]})
        versions = {"modelwright": modelwright.__version__}

        targets_: list[Target] = []
        if args.target == "router":
            targets_ += [router_target(args.router_url, w) for w in args.workers[:1]]
        else:
            log("modelwright: registering the model in an embedded home")
            home = scratch / "modelwright"
            with modelwright.connect(home) as client:
                with client.start_run("bench") as run:
                    logged = run.log_model(
                        model, input_example=frame.head(5), registered_model_name=MODEL
                    )
                registered = client.get_model_version(f"models:/{MODEL}/{logged.version}")
                where = client.download_model(registered)
                endpoints = (
                    serve_endpoints(client, registered.version, args.workers) if args.router else {}
                )
            served = {"uri": registered.uri, "digest": registered.digest, "dir": str(where)}
            for workers in args.workers:
                targets_ += modelwright_targets(served, workers)
                if workers in endpoints:
                    targets_.append(serve_target(home, endpoints[workers], workers))
        if mlflow_python is not None:
            log("MLflow: logging and registering the model in its venv")
            ml = mlflow_register(mlflow_python, scratch / "mlflow", want[BIG_ROWS])
            versions["mlflow"] = f"{ml['version']} (pinned in `bench/requirements-mlflow.txt`)"
            for workers in args.workers:
                flag = None if workers == 1 else workers  # MLflow's default is one worker
                targets_.append(mlflow_target(mlflow_python, scratch / "mlflow", ml["uri"], flag))
        from importlib.metadata import version

        for package in ("scikit-learn", "pandas", "numpy", "uvicorn"):
            versions[package] = version(package)
        versions["wrk"] = _wrk_version()
        for target in targets_:
            results.append(measure(target, files, want, args, scratch, log))
        other = meter.other(first, meter.snapshot(0))
        info_ = bench_report.machine(scratch, load_before)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    text = document(args, info_, versions, results, other, elapsed)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")
    return 0


def _wrk_version() -> str:
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    words = (done.stdout + done.stderr).split()
    return words[1] if len(words) > 1 else "?"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "mlflow-log":
        mlflow_log(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "paced":
        paced(sys.argv[2:])
    else:
        sys.exit(main())
