"""Durable workflow overhead: per step, per workflow, and queued throughput.

    .venv/bin/python bench/bench_workflows.py [POSTGRES_ADMIN_URL]

On SQLite (a fresh file) and PostgreSQL (a scratch database): a workflow of 0 and of 50
trivial steps run by one in-process worker (added latency per workflow and per step), the
floor (one bare INSERT + COMMIT on the same engine), and on PostgreSQL the throughput of
2,000 queued trivial workflows drained by 1 and by 2 worker processes; and the time from a
signal's commit to the step after the wait, with a worker polling as the server's does.
``--signal-only`` measures that last figure alone.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tests.workflows.flows  # noqa: F401 - registers test.noop and test.trivial_steps

from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.settings import Settings
from modelwright.workflows import Flow, Worker, signal, start, workflow

_ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
ADMIN = _ARGS[0] if _ARGS else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@workflow("bench.signalled")
def _signalled(flow: Flow) -> float:
    flow.wait_signal("go")
    return float(flow.step(time.time, name="after the signal"))


def signal_to_step(platform: Platform, n: int = 30) -> tuple[float, float]:
    """Median and p90 milliseconds from a signal's commit to the next step's start."""
    from modelwright.store import schema

    worker = Worker(platform)  # default poll: 0.2 s, as a server's worker
    worker.start()
    took = []
    try:
        for _ in range(n):
            with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
                job = start(ctx.session, "bench.signalled", {}, started_by=LOCAL_ADMIN)
            assert job is not None
            while _status(platform, job) != "waiting":
                time.sleep(0.005)
            # A signal comes at any moment of the worker's poll cycle, not just after it slept.
            time.sleep(random.uniform(0, 0.4))
            with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
                signal(ctx.session, job, "go", {}, sent_by=LOCAL_ADMIN)
            sent = time.time()
            while _status(platform, job) != "succeeded":
                time.sleep(0.005)
            with platform._sessions() as session:
                ran = session.get(schema.Job, job).result["value"]  # type: ignore[union-attr]
            took.append((ran - sent) * 1000)
    finally:
        worker.stop()
    return statistics.median(took), statistics.quantiles(took, n=10)[-1]


def _status(platform: Platform, job: int) -> str:
    with platform.engine.connect() as conn:
        return str(conn.scalar(text("SELECT status FROM jobs WHERE id = :j"), {"j": job}))


def enqueue(platform: Platform, kind: str, count: int, **inputs: object) -> None:
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        for _ in range(count):
            start(ctx.session, kind, dict(inputs), started_by=LOCAL_ADMIN)


def latency(platform: Platform, steps: int, n: int) -> float:
    worker = Worker(platform)
    t = 0.0
    for _ in range(n):
        enqueue(platform, "test.trivial_steps", 1, n=steps)
        t0 = time.perf_counter()
        worker.run_once()
        t += time.perf_counter() - t0
    return t / n * 1000


def floor(platform: Platform, n: int = 500) -> float:
    with platform.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (x INTEGER)"))
    t0 = time.perf_counter()
    for _ in range(n):
        with platform.engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_floor VALUES (1)"))
    return (time.perf_counter() - t0) / n * 1000


def _drain(url: str, home: str, concurrency: int) -> None:
    platform = Platform(Settings(home=Path(home), db_url=url, require_auth=False))
    worker = Worker(platform, concurrency=concurrency, poll_seconds=0.01)
    worker.start()
    time.sleep(3600)


def throughput(url: str, home: str, processes: int, n: int = 2000) -> float:
    platform = Platform(Settings(home=Path(home), db_url=url, require_auth=False))
    enqueue(platform, "test.noop", n)
    t0 = time.perf_counter()
    procs = [mp.Process(target=_drain, args=(url, home, 1), daemon=True) for _ in range(processes)]
    for p in procs:
        p.start()
    while True:
        with platform.engine.connect() as conn:
            left = conn.scalar(text("SELECT count(*) FROM jobs WHERE status <> 'succeeded'"))
        if not left:
            break
        time.sleep(0.01)
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.kill()
    platform.close()
    return n / elapsed


def main() -> None:
    home = tempfile.mkdtemp()
    for label, given in (("sqlite", f"sqlite:///{home}/mw.db"), ("postgres", None)):
        url = given
        name = None
        if given is None:
            name = f"mw_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = ADMIN.rsplit("/", 1)[0] + "/" + name
        platform = Platform(Settings(home=Path(home), db_url=url, require_auth=False))
        median, p90 = signal_to_step(platform)
        print(f"{label}: signal to the next step: median {median:.0f} ms, p90 {p90:.0f} ms")
        if "--signal-only" in sys.argv:
            platform.close()
            if name is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            continue
        latency(platform, 5, 5)  # warm up
        w0 = latency(platform, 0, 200)
        w50 = latency(platform, 50, 20)
        print(
            f"{label}: workflow of 0 steps {w0:.2f} ms, of 50 steps {w50:.1f} ms, "
            f"per step {(w50 - w0) / 50:.2f} ms; floor (bare commit) {floor(platform):.2f} ms"
        )
        platform.close()
        if name is not None:
            for processes in (1, 2):
                with platform.engine.begin() as conn:
                    conn.execute(text("DELETE FROM jobs"))
                print(
                    f"{label}: {throughput(url, home, processes):.0f} trivial workflows/s with {processes} worker(s)"
                )
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
