"""Metric ingest: 100,000 metric points from one run, modelwright against MLflow.

    .venv/bin/python bench/bench_tracking.py [--repeats 3] [--points 100000]
        [--mlflow-calls 2000] [--raw-calls 100] [--skip-mlflow] [--profile] [--no-write]

Run on demand, never in CI; about 9 minutes on an idle two-core machine (more under load),
plus about 2 minutes once to install MLflow. Three systems:

* modelwright embedded: ``modelwright.connect(home)`` in this process, SQLite in ``home``;
* modelwright REST: ``modelwright --home H server`` as a subprocess on 127.0.0.1, reached with
  ``modelwright.connect("http://127.0.0.1:P", token=...)``;
* MLflow (pinned in ``bench/requirements-mlflow.txt``, installed into ``bench/.venvs/mlflow``
  on first use): ``mlflow server`` over SQLite on 127.0.0.1 with its defaults, driven by
  ``MlflowClient`` in a subprocess of that venv's python (see ``_peers.py``).

Both servers are started first and left to go idle; the repeats are then interleaved
(embedded, REST, MLflow, again), so that a change of load falls on every system alike. Each
repeat logs into a new run and reads every point back (count, steps and values checked).
Figures are medians. MLflow's per-call ``log_metric`` is timed over ``--mlflow-calls`` calls,
not 100,000 (one HTTP request each): its points/s is extrapolated from those calls.
Prints a table and replaces the "## Metric ingest (tracking)" section of docs/benchmarks.md
(appended at the end when missing; the rest of that page is left as it is).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import _peers
from bench_report import replace_section
from bench_report import wrap as _wrap

import modelwright
from modelwright.client import Client

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "bench" / ".data"  # git-ignored; on the same disk as the checkout
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Metric ingest (tracking)"
KEY = "m"

# The targets: modelwright against MLflow's log_metric per call and its log_batch.
TARGET_PER_CALL = 100
TARGET_BATCH = 10
SINGLE_CALLS = 200  # log_batch calls of one point each: the fixed cost of a call
THIN = 1.5  # a target met by less than this factor is reported as met with little to spare


@dataclass
class Row:
    system: str  # "modelwright embedded", "modelwright REST", "MLflow"
    what: str
    n: int  # points per repeat
    seconds: list[float]  # one per repeat
    read: list[float] = field(default_factory=list)  # reading the points back, per repeat
    kind: str = ""  # "per-call", "batch", or which MLflow figure it is
    waits: list[float] = field(default_factory=list)  # diagnostic: body after headers, seconds

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def rate(self) -> float:
        return self.n / self.median


# -- modelwright ------------------------------------------------------------------------------
def _now_ms() -> int:
    return int(time.time() * 1000)


def _check(client: Client, run_id: str, n: int) -> float:
    """Read the run's points back; check count, steps and values. Returns the seconds taken."""
    started = time.perf_counter()
    history = client.metric_history(run_id, KEY)
    seconds = time.perf_counter() - started
    if len(history.values) != n or history.steps != list(range(n)):
        raise AssertionError(f"read back {len(history.values)} points of {n} (or steps wrong)")
    if history.values != [float(i) for i in range(n)]:
        raise AssertionError("read back wrong values")
    return seconds


def _buffered(client: Client, n: int) -> tuple[float, float, float]:
    """``run.log_metric`` per point, then ``run.end()``: (producer s, total s, read-back s)."""
    run = client.start_run("bench", snapshot=False)
    started = time.perf_counter()
    for i in range(n):
        run.log_metric(KEY, float(i), step=i)
    produced = time.perf_counter()
    run.end()
    ended = time.perf_counter()
    return produced - started, ended - started, _check(client, run.id, n)


def _batched(client: Client, n: int, size: int) -> tuple[float, float]:
    """``client.log_batch`` of ``size`` points per call (unbuffered): (seconds, read-back s)."""
    run = client.start_run("bench", snapshot=False)
    started = time.perf_counter()
    for first in range(0, n, size):
        ts = _now_ms()
        client.log_batch(
            run.id, metrics=[(KEY, float(i), i, ts) for i in range(first, min(first + size, n))]
        )
    seconds = time.perf_counter() - started
    run.end()
    return seconds, _check(client, run.id, n)


def modelwright_rows(system: str, n: int) -> list[Row]:
    return [
        # Time spent in the log_metric calls only; the background flush may still be sending.
        Row(system, "run.log_metric × n, producer only (buffered)", n, [], kind="per-call"),
        Row(system, "run.log_metric × n, until run.end() returns", n, [], kind="per-call"),
        Row(system, "log_batch, 1,000 points/call", n, [], kind="batch"),
        Row(system, "log_batch, 10,000 points/call", n, [], kind="batch"),
        # The fixed cost of one call (one transaction; one request over REST).
        Row(system, f"log_batch, 1 point/call × {SINGLE_CALLS}", SINGLE_CALLS, [], kind="single"),
    ]


def warm_up(client: Client) -> None:
    """Untimed: the first run, the first request, lazily imported code paths."""
    _batched(client, 100, 100)
    run = client.start_run("bench", snapshot=False)
    run.log_metric(KEY, 0.0, step=0)
    run.end()


def modelwright_repeat(client: Client, rows: list[Row]) -> None:
    """One repeat of every modelwright measurement, appended to ``rows`` (see modelwright_rows)."""
    producer, total, batch_1k, batch_10k, single = rows
    p, t, r = _buffered(client, total.n)
    producer.seconds.append(p)
    total.seconds.append(t)
    total.read.append(r)
    for size, row in ((1_000, batch_1k), (10_000, batch_10k), (1, single)):
        s, r = _batched(client, row.n, size)
        row.seconds.append(s)
        row.read.append(r)


def profile_modelwright(client: Client, n: int, label: str) -> str:
    """cProfile of one buffered ingest (log_metric × n, run.end()): the top of the profile."""
    profiler = cProfile.Profile()
    profiler.enable()
    run = client.start_run("bench", snapshot=False)
    for i in range(n):
        run.log_metric(KEY, float(i), step=i)
    run.end()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    return f"--- profile, {label}: log_metric × {n:,} + run.end() (sorted by own time) ---\n" + (
        out.getvalue()
    )


@contextmanager
def modelwright_server(home: Path, scratch: Path) -> Iterator[tuple[str, str]]:
    """``modelwright --home H server`` on a free loopback port: yields (url, token)."""
    with modelwright.connect(home) as admin:
        admin.resolve_workspace()  # makes the "default" workspace, as the embedded client does
        token = admin.create_token(name="bench").secret
    exe = Path(sys.executable).parent / "modelwright"
    if not exe.exists():
        exe = Path(shutil.which("modelwright") or ROOT / ".venv" / "bin" / "modelwright")
    port = _peers.free_port()
    log = scratch / "modelwright-server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWRIGHT_")}
    cmd = [str(exe), "--home", str(home), "server", "--port", str(port), "--log-level", "warning"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _peers.wait_http(f"{url}/healthz", proc, timeout=60, log=log)
        waited = _peers.wait_idle(proc)
        print(f"modelwright server idle after {waited:.0f} s", flush=True)
        yield url, token
    finally:
        _peers.stop(proc)


# -- MLflow -----------------------------------------------------------------------------------
def mlflow_rows(n: int, calls: int, raw_calls: int) -> list[Row]:
    return [
        Row(
            "MLflow",
            f"MlflowClient.log_metric × {calls:,} (points/s extrapolated)",
            calls,
            [],
            kind="mlflow-per-call",
        ),
        Row("MLflow", "MlflowClient.log_batch, 1,000 points/call", n, [], kind="mlflow-batch"),
        Row(
            "MLflow",
            f"diagnostic: bare HTTP log-metric × {raw_calls:,}",
            raw_calls,
            [],
            kind="mlflow-raw",
        ),
        Row(
            "MLflow",
            f"diagnostic: the same with TCP_QUICKACK × {raw_calls:,}",
            raw_calls,
            [],
            kind="mlflow-quickack",
        ),
    ]


def mlflow_repeat(python: Path, url: str, rows: list[Row]) -> dict[str, Any]:
    """One repeat of the MLflow side, in a subprocess of MLflow's venv, appended to ``rows``."""
    per_call, batch, raw, quick = rows
    result = _peers.run_mlflow_ingest(
        python, url, calls=per_call.n, points=batch.n, batch=1_000, raw_calls=raw.n, repeats=1
    )
    per_call.seconds += result["log_metric"]
    per_call.read += result["log_metric_read"]
    batch.seconds += result["log_batch"]
    batch.read += result["log_batch_read"]
    raw.seconds += result["raw_plain"]
    raw.waits += result["raw_plain_wait"]
    quick.seconds += result["raw_quickack"]
    quick.waits += result["raw_quickack_wait"]
    return result


# -- report -----------------------------------------------------------------------------------
def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:,.1f}"
    return f"{value:.2g}"


def _ratios(row: Row, per_call: Row | None, batch: Row | None) -> tuple[str, str]:
    if row.system == "MLflow":
        return "", ""
    vs_call = f"{row.rate / per_call.rate:,.0f}×" if per_call else "-"
    vs_batch = f"{row.rate / batch.rate:,.1f}×" if batch and row.kind != "single" else "-"
    return vs_call, vs_batch


def _cells(rows: list[Row]) -> list[tuple[str, ...]]:
    per_call = next((r for r in rows if r.kind == "mlflow-per-call"), None)
    batch = next((r for r in rows if r.kind == "mlflow-batch"), None)
    out = []
    for r in rows:
        vs_call, vs_batch = _ratios(r, per_call, batch)
        out.append(
            (
                r.system,
                r.what,
                f"{r.n:,}",
                _fmt(r.median),
                _fmt(r.rate),
                _fmt(1e6 / r.rate),
                vs_call,
                vs_batch,
                _fmt(statistics.median(r.read)) if r.read else "",
                " / ".join(_fmt(s) for s in r.seconds),
            )
        )
    return out


COLUMNS = (
    "system",
    "what",
    "n",
    "seconds",
    "points/s",
    "µs/point",
    "× MLflow log_metric",
    "× MLflow log_batch",
    "read back (s)",
    "each repeat (s)",
)


def table(rows: list[Row]) -> str:
    cells = [COLUMNS, *_cells(rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    lines += ["| " + " | ".join(c) + " |" for c in _cells(rows)]
    return "\n".join(lines)


def _verdict(ratio: float, target: int) -> str:
    if ratio < target:
        return "**missed**"
    if ratio < THIN * target:
        return f"met, with little to spare (less than {THIN}× the target)"
    return "met"


def targets(rows: list[Row]) -> list[str]:
    """One line per (system, target): met or missed, with the ratio."""
    per_call = next((r for r in rows if r.kind == "mlflow-per-call"), None)
    batch = next((r for r in rows if r.kind == "mlflow-batch"), None)
    lines = []
    for system in ("modelwright embedded", "modelwright REST"):
        mine = {r.what: r for r in rows if r.system == system}
        total = next((r for w, r in mine.items() if "until run.end()" in w), None)
        b1k = next((r for w, r in mine.items() if "1,000 points/call" in w), None)
        if per_call and total:
            ratio = total.rate / per_call.rate
            lines.append(
                f"{system}: buffered `run.log_metric` (until `run.end()` returns) is "
                f"{ratio:,.0f}× MLflow's per-call `log_metric`: target ≥ {TARGET_PER_CALL}× "
                f"{_verdict(ratio, TARGET_PER_CALL)}."
            )
        if batch and b1k:
            ratio = b1k.rate / batch.rate
            lines.append(
                f"{system}: `log_batch` of 1,000 points is {ratio:,.1f}× MLflow's `log_batch` "
                f"of 1,000: target ≥ {TARGET_BATCH}× {_verdict(ratio, TARGET_BATCH)}."
            )
    return lines


def machine() -> dict[str, str]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            cpu = value.strip()
            break
    ram = next(
        int(line.split()[1]) / 2**20
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": f"{os.cpu_count()} logical, {len(os.sched_getaffinity(0))} usable",
        "ram": f"{ram:.1f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


# Profiled separately (cProfile in process; py-spy on the server process), at modelwright 0.1.0.
WHERE_THE_TIME_GOES = (
    "*Where modelwright's time goes* (shown when a target is missed or met with little to "
    "spare, which a busier machine can tip). Profiled separately at modelwright 0.1.0 "
    "(cProfile in process, py-spy on the server), the time goes to storing the points: "
    "`_insert_metrics` inserts them with `session.execute(insert(RunMetric), rows)`, "
    "SQLAlchemy's ORM bulk-insert path, which does Python work per row "
    "(`_collect_insert_commands`, `construct_params`). That is about 75% of the server's busy "
    "samples in the buffered REST ingest and about 50% with 1,000-point batches, where "
    "SQLite's own `executemany` is about 15%. HTTP, JSON and request validation are under "
    "10%. The rest of a 1,000-point call is its fixed cost (the *1 point/call* rows): a token "
    "lookup and the operation in two transactions, the run lookup and access check, the "
    "latest-metric upsert and the commit."
)


def document(
    rows: list[Row],
    info: dict[str, str],
    args: argparse.Namespace,
    mlflow_result: dict[str, Any] | None,
    elapsed: float,
    loads: list[float],
) -> str:
    n = f"{args.points:,}"
    mlflow_version = (
        mlflow_result["mlflow"] if mlflow_result else f"{_peers.mlflow_pin()} (not run)"
    )
    intro = (
        f"The tracking issue's ingest benchmark: {n} metric points of one key from one run, "
        "written and then read back in full, through modelwright's embedded store, through its "
        "REST server, and through MLflow's client against its own local tracking server. "
        f"Measured by `.venv/bin/python bench/bench_tracking.py` (on demand, never in CI; "
        f"{elapsed:.0f} s for this run, not counting the one-off install of MLflow's venv). "
        f"Every figure is the median of {args.repeats} repeats, each on a new run; all repeats "
        "are shown. Ratios divide modelwright's points/s by MLflow's."
    )
    cores = len(os.sched_getaffinity(0))
    # The benchmark itself keeps one or two processes busy: more than that is other work.
    if statistics.median(loads) > cores + 1:
        intro += (
            " **Other work kept this machine busy during the run** (a median load average of "
            f"{statistics.median(loads):.1f} on {cores} cores, see below): every system ran "
            "slower than on an idle machine, and the figures vary more between repeats. The "
            "repeats being interleaved, the ratios suffer less than the absolute figures."
        )
    notes = [
        "*run.log_metric × n*: `client.start_run(...)`, then `run.log_metric('m', float(i), "
        "step=i)` for i in 0..n-1, then `run.end()`, which flushes the client-side buffer (a "
        "background thread sends what has gathered every second, or at 20,000 waiting points, "
        "in requests of up to 50,000 points). *Producer only* is the time spent in the "
        "`log_metric` calls; *until run.end() returns* includes the flush and ending the run, "
        "and every point is stored when it returns: that is the figure held against MLflow's "
        "per-call `log_metric`.",
        "*log_batch*: `client.log_batch(run_id, metrics=[(key, value, step, ts), ...])`, "
        "unbuffered, one call (one transaction; one HTTP request over REST) per batch. The "
        "point tuples are built inside the timed loop, as MLflow's `Metric` entities are.",
        f"*MLflow*: the pinned `mlflow server --backend-store-uri sqlite:///... --host 127.0.0.1 "
        "--port P` with its defaults (uvicorn, 4 workers, its job runner), driven by "
        "`MlflowClient` from MLflow's own venv. `log_metric` is synchronous, one HTTP request "
        f"per point: it is timed over {args.mlflow_calls:,} calls per repeat, not {n}, and "
        "its points/s is extrapolated from them. `log_batch` sends 1,000 `Metric` entities "
        f"per call (MLflow's maximum) for all {n} points.",
        "*read back*: `client.metric_history(run_id, 'm')` (MLflow: "
        "`MlflowClient.get_metric_history`) after each write, all points, with count, steps "
        "and values checked.",
        "modelwright's server is `modelwright server` with its defaults (one uvicorn worker); "
        "its client uses a token made with the embedded client. Both servers are started first "
        "and left to settle (until their processes are idle); then the repeats are interleaved "
        "(embedded, REST, MLflow, and again), so that a change of load during the run falls on "
        "every system alike.",
    ]
    per_call = next((r for r in rows if r.kind == "mlflow-per-call"), None)
    raw = next((r for r in rows if r.kind == "mlflow-raw"), None)
    quick = next((r for r in rows if r.kind == "mlflow-quickack"), None)
    if per_call and raw and quick:
        mine = [r for r in rows if "until run.end()" in r.what]
        against = " and ".join(
            f"{r.rate / quick.rate:,.0f}× ({r.system.removeprefix('modelwright ')})" for r in mine
        )
        stall = (
            "The two *diagnostic* rows are not targets: they separate MLflow's per-call cost "
            "from a TCP stall. `MlflowClient.log_metric` took "
            f"{1000 / per_call.rate:.1f} ms per call; the same request from a bare "
            f"`http.client` connection (TCP_NODELAY) took {1000 / raw.rate:.1f} ms, and its "
            "response body reached the client a median "
            f"{statistics.median(raw.waits) * 1000:.1f} ms after its headers (Linux's "
            "delayed-ACK time is 40 ms). With TCP_QUICKACK set on the client before each read, "
            f"the body followed the headers after {statistics.median(quick.waits) * 1000:.1f} ms "
            f"and the request took {1000 / quick.rate:.1f} ms"
        )
        if statistics.median(quick.waits) < 0.005:
            stall += (
                ": about what MLflow's server needs per call without the stall, and so the "
                "stricter yardstick for the per-call target. Against it, modelwright's buffered "
                f"`run.log_metric` (until `run.end()`) is {against}."
            )
        else:
            stall += ": in this run TCP_QUICKACK did not remove the wait, so no stall-free figure."
        notes += [
            f"At MLflow's measured per-call rate, {n} `log_metric` calls would take about "
            f"{args.points / per_call.rate / 60:,.0f} minutes (extrapolated, not measured).",
            stall,
        ]
    if any("**missed**" in line or "little to spare" in line for line in targets(rows)):
        notes.append(WHERE_THE_TIME_GOES)
    notes.append(
        f"Load average is shown because the machine ({info['cores']}) may be shared: other "
        "work running at the same time slows every system, MLflow's four workers included."
    )
    lines = [
        HEADING,
        "",
        _wrap(intro, bullet=False),
        "",
        "| | |",
        "|---|---|",
        f"| date | {info['date']} |",
        f"| cpu | {info['cpu']} |",
        f"| cores | {info['cores']} |",
        f"| ram | {info['ram']} |",
        f"| os | {info['os']} |",
        f"| python | {info['python']} (both sides) |",
        f"| versions | modelwright {metadata.version('modelwright')}, mlflow {mlflow_version} "
        f"(pinned in `bench/requirements-mlflow.txt`), SQLite {info['sqlite']} |",
        f"| load average (1/5/15 min) | at start {info['load_start']}, at end {info['load_end']} |",
        "| load average (1 min) as each measurement began | "
        + " / ".join(f"{x:.1f}" for x in loads)
        + " |",
        "",
        markdown_table(rows),
        "",
        _wrap(
            "Targets of the issue: at least 100× MLflow's per-call throughput and at least 10× "
            "its `log_batch` throughput, with every point read back (every point was, in every "
            "repeat).",
            bullet=False,
        ),
        "",
        *[_wrap(line) for line in targets(rows)],
        "",
        "How each figure is taken:",
        "",
        *[_wrap(note) for note in notes],
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path``, or append it."""
    replace_section(path, HEADING, section)


# -- main -------------------------------------------------------------------------------------
def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure (median)")
    parser.add_argument("--points", type=int, default=100_000, help="metric points per run")
    parser.add_argument(
        "--mlflow-calls", type=int, default=2_000, help="MLflow log_metric calls per repeat"
    )
    parser.add_argument(
        "--raw-calls", type=int, default=100, help="MLflow raw HTTP calls per repeat (diagnostic)"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="modelwright only")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the ingest")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--output", type=Path, default=DOC)
    return parser.parse_args()


def main() -> int:
    args = _parse()
    for name in [k for k in os.environ if k.startswith("MODELWRIGHT_")]:
        del os.environ[name]  # the embedded client reads its settings from the environment
    scratch = SCRATCH / f"tracking-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    info = machine()
    info["load_start"] = _load()
    started = time.monotonic()
    embedded = modelwright_rows("modelwright embedded", args.points)
    rest = modelwright_rows("modelwright REST", args.points)
    mlflow = [] if args.skip_mlflow else mlflow_rows(args.points, args.mlflow_calls, args.raw_calls)
    profiles: list[str] = []
    mlflow_result: dict[str, Any] | None = None
    loads: list[float] = []  # 1-minute load average as each measurement begins

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", flush=True)

    try:
        with ExitStack() as stack:
            python = None if args.skip_mlflow else _peers.mlflow_venv(log)
            started = time.monotonic()  # the one-off install of MLflow's venv is not counted
            log("starting `modelwright server` and `mlflow server` (then waiting for them to idle)")
            local = stack.enter_context(modelwright.connect(scratch / "embedded"))
            url, token = stack.enter_context(modelwright_server(scratch / "rest", scratch))
            remote = stack.enter_context(modelwright.connect(url, token=token))
            if python is not None:
                mlflow_url = stack.enter_context(_peers.mlflow_server(python, scratch / "mlflow"))
            warm_up(local)
            warm_up(remote)
            # Repeats are interleaved (embedded, REST, MLflow; again...), so that a change of
            # load on the machine during the run falls on every system alike.
            for repeat in range(1, args.repeats + 1):
                log(f"repeat {repeat}/{args.repeats}: modelwright embedded, {args.points:,} points")
                loads.append(os.getloadavg()[0])
                modelwright_repeat(local, embedded)
                log(f"repeat {repeat}/{args.repeats}: modelwright REST, {args.points:,} points")
                loads.append(os.getloadavg()[0])
                modelwright_repeat(remote, rest)
                if python is not None:
                    loads.append(os.getloadavg()[0])
                    log(
                        f"repeat {repeat}/{args.repeats}: MLflow, {args.mlflow_calls:,} log_metric "
                        f"calls, {args.points:,} points in batches (about 2-3 minutes)"
                    )
                    mlflow_result = mlflow_repeat(python, mlflow_url, mlflow)
            if args.profile:
                profiles.append(profile_modelwright(local, args.points, "embedded"))
                profiles.append(profile_modelwright(remote, args.points, "REST, client side"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    info["load_end"] = _load()
    rows = [*embedded, *rest, *mlflow]

    print()
    print(table(rows))
    print()
    for line in targets(rows):
        print(line.replace("**", "").replace("`", ""))
    for text in profiles:
        print("\n" + text)
    print(
        f"\n{elapsed:.0f} s on {info['cpu']} ({info['cores']}), Python {info['python']}; "
        f"load average {info['load_start']} at start, {info['load_end']} at end; 1-minute "
        f"load as each measurement began: {' / '.join(f'{x:.1f}' for x in loads)}"
    )
    if not args.no_write:
        write_section(args.output, document(rows, info, args, mlflow_result, elapsed, loads))
        print(f"wrote the '{HEADING.removeprefix('## ')}' section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
