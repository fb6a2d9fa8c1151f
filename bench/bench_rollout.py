"""Progressive rollouts under load: how fast a faulty canary is rolled back, what it costs the
callers, and whether a healthy rollout drops anything.

    .venv/bin/python bench/bench_rollout.py [--rate 200] [--canaries 3] [--bake 5s]
        [--stats-interval 1] [--poll 2] [--min-requests 5] [--hold-paused 0]
        [--control 0] [--out bench/.data/rollout.json]

Run on demand, never in CI; about 3 minutes on two cores. Everything on the embedded default
(SQLite + local files, one platform home in a temporary directory) with real processes:
``modelwright serve`` (the environment's router and its supervised model servers),
``modelwright worker`` (which runs each rollout as a durable workflow), and rollouts started
with ``modelwright rollout start``, as a user would.

The model: a scikit-learn ``StandardScaler`` + ``LogisticRegression`` over four numeric
columns (version 1, the stable deployment, and version 3, the healthy new one), and version 2,
a plain Python (pyfunc) model whose ``predict`` raises on every input, so its model server
answers 500 to every request routed to it.

The load: an open loop in its own process (``load``), ``--rate`` requests a second of one row
each, fired on a fixed schedule whatever the answers (asyncio + httpx, a pool of keep-alive
connections). For each request: the scheduled time, how late it was actually sent (the
generator's lag), the status, the latency and the deployment that answered
(``x-modelwright-deployment``). A request without an answer (connection error or timeout)
is dropped.

1. *Faulty canary* (``--canaries`` times, a new deployment name each time):
   ``--strategy canary --steps 10,100 --bake 5s --alarm 'error_rate > 0.01'
   --min-requests 5``. Time to rollback, two ways: the send time of the last failed request
   minus that of the first (what callers see), and the rollback's recorded time
   (``rollout status``: ``finished_at``) minus the first failure's send time (what the
   platform decided). Failed share over the same interval against the canary's weight.
2. *Healthy linear rollout* ``--strategy linear --steps 10,50,100 --bake 5s`` of version 3:
   failed and dropped requests, and the total duration.

A step whose window counted fewer than ``--min-requests`` of the new deployment's requests is
inconclusive: the rollout pauses with the traffic where it is, as documented. The bench then
does what an operator would, ``--hold-paused`` seconds later: it resumes the rollout (the
step is judged afresh), and says how often it had to.

Writes the figures and each run's timeline as JSON (``--out``) and prints a table;
docs/benchmarks.md is written by hand from them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import bench_report

if TYPE_CHECKING:
    from modelwright.client import Client

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "bench" / ".data"  # git-ignored
WORKSPACE, ENVIRONMENT, ENDPOINT, MODEL = "bench", "dev", "scores", "scorer"
FEATURES = ("x0", "x1", "x2", "x3")
STABLE = "stable"
ALARM = "error_rate > 0.01"
CANARY_STEPS, LINEAR_STEPS = "10,100", "10,50,100"
CANARY_WEIGHT = 0.10
TARGET_WINDOWS = 2  # rollback within two analysis windows (bakes)
ROW = json.dumps({"dataframe_records": [dict.fromkeys(FEATURES, 0.5)]}).encode()
DEPLOYMENT_HEADER = "x-modelwright-deployment"


class Faulty:
    """A version that passed its author's checks and fails in serving: every call raises."""

    def predict(self, data: Any) -> Any:
        raise RuntimeError("faulty version: cannot score")


# -- the load generator (its own process) ------------------------------------------------------
def load_main(argv: list[str]) -> None:
    """``load``: ``--rate`` requests a second on a fixed schedule until ``--stop`` exists, then
    waits for the answers (``--timeout`` seconds for each phase: a free connection,
    connect, write, read) and writes them to ``--out`` as columns: scheduled wall time, send lag,
    latency, status (0: dropped), deployment."""
    parser = argparse.ArgumentParser(prog="load")
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--stop", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    columns = asyncio.run(_load(args))
    args.out.write_text(json.dumps(columns))


async def _load(args: argparse.Namespace) -> dict[str, list[Any]]:
    import httpx

    n = 0
    scheduled: list[float] = []
    lag: list[float] = []
    latency: list[float] = []
    status: list[int] = []
    deployment: list[str] = []
    error: list[str] = []

    async def one(http: httpx.AsyncClient, i: int, due: float) -> None:
        sent = time.perf_counter()
        lag[i] = sent - due
        try:
            r = await http.post(args.url, content=ROW, headers={"content-type": "application/json"})
            status[i] = r.status_code
            deployment[i] = r.headers.get(DEPLOYMENT_HEADER, "")
        except httpx.HTTPError as exc:
            error[i] = f"{type(exc).__name__}: {exc}"
        latency[i] = time.perf_counter() - sent

    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections
    )
    # httpx's own timeouts, per phase (waiting for a pooled connection, connect, write, read):
    # cancelling a request from outside (asyncio.timeout) can leak the pool's connection
    # slots in httpcore until no request is sent any more (encode/httpcore#1093).
    timeout = httpx.Timeout(args.timeout)
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as http:
        wall0, t0 = time.time(), time.perf_counter()
        check_every = max(1, int(args.rate / 10))  # look for the stop file ten times a second
        while n % check_every or not args.stop.exists():
            due = t0 + n / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            scheduled.append(wall0 + n / args.rate)
            lag.append(0.0)
            latency.append(0.0)
            status.append(0)
            deployment.append("")
            error.append("")
            task = asyncio.create_task(one(http, n, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        if tasks:
            await asyncio.wait(tasks)
    return {
        "scheduled": scheduled,
        "lag": lag,
        "latency": latency,
        "status": status,
        "deployment": deployment,
        "error": error,
    }


class Request(NamedTuple):
    scheduled: float  # wall time, seconds since the epoch
    lag: float  # seconds between the scheduled time and the send
    latency: float  # seconds from the send to the answer (or the failure)
    status: int  # 0: dropped, no answer
    deployment: str
    error: str

    @property
    def sent(self) -> float:
        """When it was actually sent (wall time)."""
        return self.scheduled + self.lag


class Load:
    """The generator's process, from start to the answers it collected."""

    def __init__(self, url: str, rate: float, scratch: Path) -> None:
        tag = f"{time.time_ns()}"
        self.stop_file = scratch / f"stop-{tag}"
        self.out = scratch / f"load-{tag}.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "load", "--url", url]
        cmd += ["--rate", f"{rate:g}", "--stop", str(self.stop_file), "--out", str(self.out)]
        self.proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": _pythonpath()})

    def finish(self) -> list[Request]:
        self.stop_file.touch()
        if self.proc.wait(timeout=120) != 0:
            raise RuntimeError(f"the load generator failed ({self.proc.returncode})")
        cols = json.loads(self.out.read_text())
        return [Request(*row) for row in zip(*(cols[k] for k in Request._fields), strict=True)]


# -- the platform ------------------------------------------------------------------------------
def _pythonpath() -> str:
    extra = os.environ.get("PYTHONPATH")
    return f"{ROOT / 'src'}:{ROOT / 'bench'}" + (f":{extra}" if extra else "")


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MODELWRIGHT_HOME": str(home), "PYTHONPATH": _pythonpath()}


def cli(home: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "modelwright", *args],
        env={**_env(home), "COLUMNS": "160"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"modelwright {' '.join(args)}: {done.returncode}\n{done.stderr}")
    return done.stdout


def setup(home: Path) -> None:
    """A workspace, the three versions of the model, the endpoint with version 1 on it."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import modelwright
    from modelwright.registry.signature import Signature, infer_schema

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(500, len(FEATURES))), columns=list(FEATURES))
    y = (x["x0"] + 0.5 * x["x1"] - x["x3"] > 0).astype(int).to_numpy()
    client = modelwright.connect(home)
    client.create_workspace(WORKSPACE)
    with client.start_run("rollout-bench", workspace=WORKSPACE, environment=ENVIRONMENT) as run:
        fitted = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
        run.log_model(fitted, MODEL, input_example=x[:3])  # version 1: stable
        # Version 2 cannot predict on an example: its signature is given instead.
        run.log_model(Faulty(), MODEL, signature=Signature(inputs=infer_schema(x[:3])))
        healthy = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(x, y)
        run.log_model(healthy, MODEL, input_example=x[:3])  # version 3: healthy
    client.create_endpoint(ENDPOINT, workspace=WORKSPACE, environment=ENVIRONMENT)
    client.deploy(ENDPOINT, STABLE, MODEL, 1, workspace=WORKSPACE, environment=ENVIRONMENT)


@dataclass
class Processes:
    """``modelwright serve`` and ``modelwright worker``; the router's lines, time-stamped."""

    home: Path
    port: int
    poll: float
    stats_interval: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    _client: Client | None = field(default=None, repr=False)

    @property
    def client(self) -> Client:
        """The SDK on the same platform home, in this process (for following rollouts)."""
        import modelwright

        if self._client is None:
            self._client = modelwright.connect(self.home)
        return self._client

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/endpoints/{WORKSPACE}/{ENVIRONMENT}/{ENDPOINT}/invocations"

    def start(self) -> None:
        serve = [sys.executable, "-m", "modelwright", "serve", "-w", WORKSPACE, "-e", ENVIRONMENT]
        serve += ["--port", str(self.port), "--poll", f"{self.poll:g}"]
        serve += ["--stats-interval", f"{self.stats_interval:g}"]
        router = subprocess.Popen(
            serve,
            env=_env(self.home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.procs.append(router)
        threading.Thread(target=self._read, args=(router,), daemon=True).start()
        worker = [sys.executable, "-m", "modelwright", "worker"]
        with (self.home / "worker.log").open("w") as log:  # the child keeps its own copy
            self.procs.append(
                subprocess.Popen(worker, env=_env(self.home), stdout=log, stderr=log, text=True)
            )
        self.wait_ready(STABLE)

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append((time.time(), line.rstrip()))

    def wait_ready(self, deployment: str, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        key = f"{ENDPOINT}/{deployment}"
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                health = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).json()
                if health["workers"][key]["state"] == "ready":
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{key} did not become ready:\n" + "\n".join(x for _, x in self.lines))

    def seen(self, text: str, since: float) -> float | None:
        """When the router first printed a line holding ``text`` after ``since``."""
        return next((t for t, line in self.lines if t >= since and text in line), None)

    def router_latency(self) -> list[str]:
        """The router's own latency histogram (from its handler's start to the answer): a
        stall it sees is upstream of it; one it does not see is before its handler."""
        import httpx

        try:
            text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=10).text
        except httpx.HTTPError as exc:
            return [f"unavailable: {exc}"]
        return [x for x in text.splitlines() if x.startswith("modelwright_router_request_seconds")]

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- one rollout under load --------------------------------------------------------------------
def _ts(value: str | datetime | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.timestamp()


def rollout(
    procs: Processes,
    args: argparse.Namespace,
    scratch: Path,
    deployment: str,
    version: int,
    strategy: str,
    steps: str,
) -> tuple[dict[str, Any], list[Request]]:
    """Start the load, start the rollout, wait for it to end, let the traffic settle, stop the
    load. Returns the rollout as ``rollout status --json`` shows it, with the bench's own
    notes, and every request."""
    load_before = bench_report.load_average()
    load = Load(procs.url, args.rate, scratch)
    try:
        time.sleep(args.settle)  # the generator at its pace before anything changes
        started = time.time()
        out = cli(
            procs.home, "rollout", "start", ENDPOINT, f"models:/{MODEL}/{version}",
            "-d", deployment, "--strategy", strategy, "--steps", steps, "--bake", args.bake,
            "--alarm", ALARM, "--min-requests", str(args.min_requests), "-w", WORKSPACE, "-e", ENVIRONMENT, "--json",
        )  # fmt: skip
        rollout_id = json.loads(out)["id"]
        resumed: list[float] = []
        deadline = time.monotonic() + args.deadline
        # Followed through the SDK in this process: a command per look would cost the
        # machine a second of CPU each time.
        while True:
            status = procs.client.get_rollout(rollout_id).model_dump(mode="json")
            if status["status"] == "paused" and status["outcome"].startswith("no data"):
                # Too few of the new deployment's requests were counted (its servers were
                # still loading): inconclusive. An operator resumes it, judged afresh.
                time.sleep(args.hold_paused)
                resumed.append(time.time())
                procs.client.resume_rollout(rollout_id)
                continue
            if status["status"] not in ("running", "paused"):
                break
            if time.monotonic() > deadline:
                status = procs.client.abort_rollout(rollout_id).model_dump(mode="json")
                break
            time.sleep(0.5)
        time.sleep(args.settle)  # the routers follow the last change; answers come back
    finally:
        requests = load.finish()
    status["bench"] = {
        "load_average": f"{load_before} before, {bench_report.load_average()} after",
        "start_command_at": started,
        "resumed_at": resumed,
        "router_ready_at": procs.seen(f"ready {ENDPOINT}/{deployment}", started),
        "router_retiring_at": procs.seen("retiring", started),
    }
    return status, requests


def _rate(requests: list[Request]) -> dict[str, float]:
    sends = sorted(r.sent for r in requests)
    lags = sorted(r.lag * 1000 for r in requests)
    return {
        "sent": len(requests),
        "scheduled_rate": (len(requests) - 1) / (requests[-1].scheduled - requests[0].scheduled),
        "achieved_rate": (len(sends) - 1) / (sends[-1] - sends[0]),
        "lag_p50_ms": statistics.median(lags),
        "lag_p99_ms": lags[int(len(lags) * 0.99) - 1],
        "lag_max_ms": lags[-1],
    }


def _answers(requests: list[Request]) -> dict[str, Any]:
    ok = [r for r in requests if 200 <= r.status < 300]
    by: dict[str, dict[str, int]] = {}
    for r in requests:
        if r.status:
            counts = by.setdefault(r.deployment or "?", {})
            counts[str(r.status)] = counts.get(str(r.status), 0) + 1
    latencies = sorted(r.latency * 1000 for r in ok)
    return {
        "failed": sum(1 for r in requests if r.status and not 200 <= r.status < 300),
        "dropped": sum(1 for r in requests if not r.status),
        "dropped_errors": sorted({r.error for r in requests if not r.status}),
        "answers_by_deployment": by,
        "ok_latency_p50_ms": statistics.median(latencies) if latencies else None,
        "ok_latency_p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
    }


def canary_figures(status: dict[str, Any], requests: list[Request]) -> dict[str, Any]:
    """Time to rollback and what it cost, from the requests and the rollout's record."""
    name = status["deployment"]
    failed = sorted(
        (r for r in requests if r.status and not 200 <= r.status < 300), key=lambda r: r.sent
    )
    on_canary = sorted((r for r in requests if r.deployment == name), key=lambda r: r.sent)
    shift = _ts(status["history"][0]["since"]) if status["history"] else None
    rolled_back = _ts(status["finished_at"])
    figures: dict[str, Any] = {
        "deployment": name,
        "status": status["status"],
        "outcome": status["outcome"],
        "history": status["history"],
        "resumed": len(status["bench"]["resumed_at"]),
        "load_average": status["bench"]["load_average"],
        **_rate(requests),
        **_answers(requests),
    }
    if not failed or shift is None or rolled_back is None:
        return figures
    first, last = failed[0].sent, failed[-1].sent
    between = [r for r in requests if first <= r.sent <= last]
    bench = status["bench"]
    judged = _ts(status["history"][-1]["until"]) or rolled_back
    figures.update(
        {
            # From the first failed request's send to the last one's: what callers saw.
            "rollback_s": last - first,
            # The same by answer times: under a backlog a request waits before it is routed,
            # so when the failures were answered is closer to when the canary took traffic.
            "rollback_answered_s": max(r.sent + r.latency for r in failed)
            - min(r.sent + r.latency for r in failed),
            # From the first failed request's send to the rollback being recorded.
            "rollback_recorded_s": rolled_back - first,
            # From the recorded rollback to the router's last request to the canary.
            "router_follow_s": on_canary[-1].sent - rolled_back,
            "failed_between": len(failed),
            "sent_between": len(between),
            "failed_share": len(failed) / len(between),
            "bound_share": CANARY_WEIGHT,
            "bound_requests": CANARY_WEIGHT * len(between),
            # Each request goes to the canary with probability 0.1: how many standard
            # deviations of that draw the failures are above (or below) the bound.
            "z_vs_bound": (len(failed) - CANARY_WEIGHT * len(between))
            / (len(between) * CANARY_WEIGHT * (1 - CANARY_WEIGHT)) ** 0.5,
            # The judgement counts what the routers had flushed by then: failures sent before
            # it that were not yet written are the stats interval's lag.
            "failed_before_judged": sum(1 for r in failed if r.sent < judged),
            "counted_in_window": status["history"][-1]["requests"],
            "timeline_s": {  # relative to the shift to 10 % being recorded
                "start_command": bench["start_command_at"] - shift,
                "router_ready": _rel(bench["router_ready_at"], shift),
                "first_canary_answer": on_canary[0].sent - shift,
                "first_failure": first - shift,
                "judged": judged - shift,
                "rolled_back_recorded": rolled_back - shift,
                "last_failure": last - shift,
                "last_canary_answer": on_canary[-1].sent - shift,
                "router_retiring": _rel(bench["router_retiring_at"], shift),
            },
            "failed_on_stable": sum(1 for r in failed if r.deployment != name),
            "per_second": per_second(requests, shift),
        }
    )
    return figures


def linear_figures(status: dict[str, Any], requests: list[Request]) -> dict[str, Any]:
    created, finished = _ts(status["created_at"]), _ts(status["finished_at"])
    name = status["deployment"]
    on_old = sorted((r for r in requests if r.deployment == status["stable"]), key=lambda r: r.sent)
    steps = []
    for h in status["history"]:
        since, until = _ts(h["since"]), _ts(h["until"])
        assert since is not None
        assert until is not None
        mine = [r for r in requests if since <= r.sent < until and r.status]
        share = sum(1 for r in mine if r.deployment == name) / len(mine) if mine else 0.0
        steps.append({**h, "share_answered_by_new": share, "window_s": until - since})
    return {
        "deployment": name,
        "status": status["status"],
        "outcome": status["outcome"],
        "duration_s": (finished or 0.0) - (created or 0.0),
        "steps": steps,
        "last_old_answer_after_finish_s": on_old[-1].sent - (finished or 0.0) if on_old else None,
        "resumed": len(status["bench"]["resumed_at"]),
        "load_average": status["bench"]["load_average"],
        **_rate(requests),
        **_answers(requests),
        "per_second": per_second(requests, created or 0.0),
    }


def per_second(requests: list[Request], origin: float) -> list[dict[str, Any]]:
    """Second by second from ``origin``, by send time: sent, answered per deployment, failed,
    dropped, and the slowest latency (a backlog shows here first)."""
    rows: dict[int, dict[str, Any]] = {}
    for r in requests:
        t = int((r.sent - origin) // 1)
        row = rows.setdefault(
            t, {"t": t, "sent": 0, "by": {}, "failed": 0, "dropped": 0, "max_ms": 0.0}
        )
        row["sent"] += 1
        if not r.status:
            row["dropped"] += 1
            continue
        row["by"][r.deployment] = row["by"].get(r.deployment, 0) + 1
        row["failed"] += not 200 <= r.status < 300
        row["max_ms"] = max(row["max_ms"], round(r.latency * 1000, 1))
    return [rows[t] for t in sorted(rows)]


def _rel(t: float | None, origin: float) -> float | None:
    return None if t is None else t - origin


# -- the report --------------------------------------------------------------------------------
def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(canaries: list[dict[str, Any]], linear: dict[str, Any]) -> None:
    head = (
        "run", "sent", "rate/s", "lag p99 ms", "ok p99 ms", "failed", "dropped", "rollback s",
        "recorded s", "failed share", "z", "paused", "load avg", "status",
    )  # fmt: skip
    rows = [head]
    for i, c in enumerate(canaries, 1):
        rows.append(
            (
                f"canary {i}", str(c["sent"]), _f(c["achieved_rate"], 1), _f(c["lag_p99_ms"], 1),
                _f(c["ok_latency_p99_ms"], 1), str(c["failed"]), str(c["dropped"]),
                _f(c.get("rollback_s")), _f(c.get("rollback_recorded_s")),
                _f(c.get("failed_share"), 3), _f(c.get("z_vs_bound"), 1), str(c["resumed"]),
                c["load_average"], c["status"],
            )
        )  # fmt: skip
    rows.append(
        (
            "linear", str(linear["sent"]), _f(linear["achieved_rate"], 1),
            _f(linear["lag_p99_ms"], 1), _f(linear["ok_latency_p99_ms"], 1),
            str(linear["failed"]), str(linear["dropped"]), "-", "-", "-", "-",
            str(linear["resumed"]), linear["load_average"],
            f"{linear['status']} in {linear['duration_s']:.1f} s",
        )
    )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print("\n".join(lines))
    print(
        f"failed share: of the requests sent from the first failure to the last; bound {CANARY_WEIGHT}"
    )
    done = [c for c in canaries if "rollback_s" in c]
    if done:
        for key in ("rollback_s", "rollback_answered_s", "rollback_recorded_s", "failed_share"):
            values = [c[key] for c in done]
            each = " / ".join(f"{v:.3f}" for v in values)
            print(f"median {key}: {statistics.median(values):.3f} (each: {each})")
        for c in done:
            steps = ", ".join(f"{k} {v:.2f}" for k, v in c["timeline_s"].items() if v is not None)
            print(f"{c['deployment']}, seconds from the shift to 10 % being recorded: {steps}")
    for step in linear["steps"]:
        print(
            f"linear {step['weight']}%: {step['requests']} request(s) judged, {step['verdict']}; "
            f"share answered by the new deployment in the window {step['share_answered_by_new']:.2f}"
        )


# -- main --------------------------------------------------------------------------------------
def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "load":
        load_main(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--canaries", type=int, default=3, help="faulty canaries rolled back")
    parser.add_argument("--bake", default="5s", help="each step's bake")
    parser.add_argument("--stats-interval", type=float, default=1.0, help="router stats flush")
    parser.add_argument("--poll", type=float, default=2.0, help="router's endpoint poll (s)")
    parser.add_argument("--min-requests", type=int, default=5, help="rollout's --min-requests")
    parser.add_argument(
        "--hold-paused", type=float, default=0.0, help="wait before resuming a no-data pause (s)"
    )
    parser.add_argument(
        "--control", type=float, default=0.0, help="seconds of load with no rollout first"
    )
    parser.add_argument("--deadline", type=float, default=120.0, help="abort a rollout after (s)")
    parser.add_argument("--settle", type=float, default=4.0, help="load before and after (s)")
    parser.add_argument("--out", type=Path, default=SCRATCH / "rollout.json")
    parser.add_argument("--keep", action="store_true", help="keep the platform home")
    args = parser.parse_args()

    load_before = bench_report.load_average()
    home = Path(tempfile.mkdtemp(prefix="mw-rollout-"))
    scratch = home / "load"
    scratch.mkdir()
    setup(home)
    procs = Processes(home, free_port(), args.poll, args.stats_interval)
    canaries: list[dict[str, Any]] = []
    control: dict[str, Any] = {}
    try:
        procs.start()
        if args.control:  # the same load with no rollout: the platform's own baseline
            load_before_control = bench_report.load_average()
            load = Load(procs.url, args.rate, scratch)
            time.sleep(args.control)
            requests = load.finish()
            control = {
                "load_average": f"{load_before_control} before, "
                f"{bench_report.load_average()} after",
                **_rate(requests),
                **_answers(requests),
                "per_second": per_second(requests, requests[0].sent),
            }
            print(
                f"control: {control['sent']} sent, {control['failed']} failed, "
                f"{control['dropped']} dropped, ok p99 {control['ok_latency_p99_ms']:.1f} ms, "
                f"slowest {max(r['max_ms'] for r in control['per_second']):.0f} ms",
                flush=True,
            )
        for i in range(1, args.canaries + 1):
            status, requests = rollout(
                procs, args, scratch, f"faulty-{i}", 2, "canary", CANARY_STEPS
            )
            canaries.append(canary_figures(status, requests))
            print(f"canary {i}: {status['status']}: {status['outcome']}", flush=True)
        status, requests = rollout(procs, args, scratch, "healthy", 3, "linear", LINEAR_STEPS)
        linear = linear_figures(status, requests)
        print(f"linear: {status['status']}: {status['outcome']}", flush=True)
    finally:
        router_metrics = procs.router_latency()
        procs.stop()
        router_log = [f"{t:.3f} {line}" for t, line in procs.lines]
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    result = {
        "machine": bench_report.machine(ROOT / "bench", load_before),
        "config": {
            "rate_per_s": args.rate,
            "bake": args.bake,
            "stats_interval_s": args.stats_interval,
            "router_poll_s": args.poll,
            "worker_poll_s": 0.2,
            "alarm": ALARM,
            "min_requests": args.min_requests,
            "hold_paused_s": args.hold_paused,
            "canary_steps": CANARY_STEPS,
            "linear_steps": LINEAR_STEPS,
            "target_rollback_s": TARGET_WINDOWS * _seconds(args.bake),
        },
        "control": control,
        "canaries": canaries,
        "linear": linear,
        "router_log": router_log,
        "router_latency_histogram": router_metrics,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=str))
    print_table(canaries, linear)
    print(f"wrote {args.out}")
    return 0


def _seconds(text: str) -> float:
    from modelwright.cli._times import parse_duration

    return parse_duration(text, "--bake").total_seconds()


if __name__ == "__main__":
    sys.exit(main())
