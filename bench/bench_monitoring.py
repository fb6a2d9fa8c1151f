"""Monitoring costs: what data capture takes from serving, and how fast a monitor evaluates.

    .venv/bin/python bench/bench_monitoring.py [--duration 10] [--repeats 3]
        [--connections 16] [--rows 10000 100000]

Run on demand, never in CI. Two parts, both on the embedded default:

* **Capture.** The model of ``bench_serving.py`` (StandardScaler + LogisticRegression over 30
  columns) served by its ``serving_app`` factory under uvicorn, one worker, default
  ``ServingConfig``: once without capture and once capturing every request
  (``Capture(rate=1.0)``, as a deployment with ``capture_rate: 1.0`` does) into a local
  datastore. Load: a closed loop of ``--connections`` keep-alive connections sending one-row
  ``POST /invocations`` for ``--duration`` seconds, in its own process. The two modes
  alternate, ``--repeats`` times each, so a drift of the machine falls on both. After each
  captured run the Parquet rows written are counted against the answers (none may be lost).
  Then capture's own CPU per request is timed in process (``record`` and the writer's
  ``_write``) and set against the CPU an answer takes: the figure the end-to-end runs try to
  see through the noise of a shared machine.
* **Monitor evaluation.** The signal code a monitor evaluation runs, in process, on
  synthetic data shaped like captured traffic (8 numeric and 2 categorical features, a
  50,000-row baseline): decoding the captured request bodies, then the ``drift`` and
  ``quality`` signals, each timed alone, for current windows of ``--rows`` rows. Rows per
  second = window rows / median time.

Prints a Markdown section; docs/benchmarks.md is not touched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_serving as bs  # noqa: E402 (the bench directory is put on the path above)


# -- part 1: capture --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def register(home: Path) -> dict[str, str]:
    """The bench_serving model, registered and downloaded as the serving factory wants it."""
    from bench_registry import build

    import modelwright

    model, data = build(bs.MODEL, 0)
    with modelwright.connect(home) as client:
        with client.start_run("capture") as run:
            logged = run.log_model(
                model, input_example=data.head(5), registered_model_name=bs.MODEL
            )
        registered = client.get_model_version(f"models:/{bs.MODEL}/{logged.version}")
        where = client.download_model(registered)
    return {"uri": registered.uri, "digest": registered.digest, "dir": str(where)}


def serve(
    model: dict[str, str], capture: str | None, pin: bool = False
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        bs.ENV_DIR: model["dir"],
        bs.ENV_DIGEST: model["digest"],
        bs.ENV_URI: model["uri"],
        bs.ENV_CONFIG: "{}",
        bs.ENV_CAPTURE: capture or "",
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench_serving:serving_app"]
    cmd += ["--app-dir", str(BENCH), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen([*cpu(pin, 0), *cmd], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the model server did not start")


def closed_loop(argv: list[str]) -> None:
    """The load (its own process): ``--connections`` keep-alive connections, each sending
    the next request as soon as the previous answer is read, for ``--duration`` seconds."""
    parser = argparse.ArgumentParser(prog="closed-loop")
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(asyncio.run(_closed(args))))


async def _closed(args: argparse.Namespace) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    data = bs.body(1)
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + args.duration

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        while time.monotonic() < end:
            started = time.perf_counter()
            writer.write(head + data)
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if b" 200 " in status:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(args.connections)))
    took = time.monotonic() - started
    latencies.sort()
    return {
        "answers": len(latencies),
        "errors": errors,
        "rps": len(latencies) / took,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


def captured_rows(root: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(p).num_rows for p in root.rglob("*.parquet"))


def capture_cost(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    model = register(work / "home")
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    ratios: list[float] = []
    for i in range(args.repeats):
        # ABBA: a machine that slows down or speeds up during the run falls on both modes.
        order = ("off", "on") if i % 2 == 0 else ("on", "off")
        pair: dict[str, float] = {}
        for mode in order:
            lake = work / f"lake-{i}"
            proc, url = serve(model, str(lake) if mode == "on" else None, args.pin)
            out = work / f"load-{mode}-{i}.json"
            try:
                cmd = [*cpu(args.pin, 1), sys.executable, __file__, "closed-loop", "--url", url]
                cmd += ["--connections", str(args.connections), "--duration", str(args.duration)]
                subprocess.run([*cmd, "--out", str(out)], check=True)
            finally:
                proc.terminate()  # the server's shutdown writes what capture holds
                proc.wait(timeout=60)
            figures = json.loads(out.read_text())
            if mode == "on":
                figures["captured"] = captured_rows(lake)
            runs[mode].append(figures)
            pair[mode] = figures["rps"]
            print(f"capture {mode} #{i + 1}: {figures}", flush=True)
        ratios.append(pair["on"] / pair["off"])
    off = statistics.median(r["rps"] for r in runs["off"])
    on = statistics.median(r["rps"] for r in runs["on"])
    # The cost is the median over pairs run back to back, each pair's own ratio.
    return {
        "runs": runs,
        "median_rps_off": off,
        "median_rps_on": on,
        "pair_costs": [1 - r for r in ratios],
        "cost": 1 - statistics.median(ratios),
    }


def capture_cpu(work: Path, answers_per_second: float) -> dict[str, float]:
    """Capture's own CPU per request, in process and without a server: ``record`` (what the
    request path pays) and the writer's ``_write`` of a 1,000-record batch (what the writer
    thread takes from the same process), with the bodies the load sends. Against the CPU one
    answer takes at the measured throughput of one worker on one core, this is the cost the
    end-to-end runs try to see through the noise of a shared machine."""
    from modelwright.serving.capture import Capture

    request = bs.body(1)
    response = b'{"predictions": [1]}'
    # The writer never wakes on its own here: the records are taken by hand below.
    capture = Capture(
        str(work / "cpu-lake"),
        endpoint="e",
        deployment="d",
        model="m",
        rate=1.0,
        flush_rows=10**9,
        flush_seconds=3600,
        max_pending=10**9,
    )
    calls = 100_000
    started = time.perf_counter()
    for i in range(calls):
        capture.record(str(i), request, response, 200, 1.5)
    record_s = (time.perf_counter() - started) / calls
    batch = [capture._pending.popleft() for _ in range(1000)]
    capture._pending.clear()
    write_s = timed(lambda: capture._write(batch), 20) / len(batch)
    capture.close()
    per_answer = 1 / answers_per_second
    return {
        "record_us": 1e6 * record_s,
        "write_us": 1e6 * write_s,
        "answer_us": 1e6 * per_answer,
        "share": (record_s + write_s) / per_answer,
    }


def cpu(pin: bool, which: int) -> list[str]:
    """With ``--pin``, a child runs on one CPU only (``taskset``): the server on CPU 0, the
    load on CPU 1, so the load generator never takes the server's core and the capture writer
    shares only the server's own."""
    return ["taskset", "-c", str(which)] if pin else []


# -- part 2: monitor evaluation ---------------------------------------------------------------
NUMERIC = [f"x{i}" for i in range(8)]
CATEGORIES = ["plan", "region"]


def frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {f: rng.normal(shift, 1.0, rows) for f in NUMERIC}
    data["plan"] = rng.choice(["basic", "plus", "pro"], rows)
    data["region"] = rng.choice([f"r{i}" for i in range(12)], rows)
    return pd.DataFrame(data)


def timed(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def evaluation_speed(args: argparse.Namespace) -> list[dict[str, Any]]:
    from modelwright.monitors.capture import decode_requests
    from modelwright.monitors.models import DEFAULT_THRESHOLDS
    from modelwright.monitors.signals import evaluate

    baseline = frame(50_000, seed=1)
    features = NUMERIC + CATEGORIES
    out = []
    for rows in args.rows:
        current = frame(rows, seed=2, shift=0.1)
        bodies = [
            json.dumps({"dataframe_split": {"columns": features, "data": chunk}})
            for chunk in (current.iloc[i : i + 1].values.tolist() for i in range(rows))
        ]
        decode = timed(lambda b=bodies: decode_requests(b, features), args.repeats)
        decoded, bad = decode_requests(bodies, features)
        if bad or len(decoded) != rows:
            raise SystemExit(f"decoding lost rows: {bad} unreadable, {len(decoded)} of {rows}")
        figures = {"rows": rows, "decode_s": decode}
        for signal in ("drift", "quality"):
            figures[f"{signal}_s"] = timed(
                lambda s=signal, c=current: evaluate(
                    baseline, c, features, [s], dict(DEFAULT_THRESHOLDS)
                ),
                args.repeats,
            )
        out.append(figures)
        print(f"evaluation {figures}", flush=True)
    return out


def report(cost: dict[str, Any], speed: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        "| capture | median answers/s | p50 ms | p99 ms | captured rows / answers |",
        "|---|--:|--:|--:|--:|",
    ]
    for mode in ("off", "on"):
        runs = cost["runs"][mode]
        kept = "-" if mode == "off" else ", ".join(f"{r['captured']}/{r['answers']}" for r in runs)
        lines.append(
            f"| {mode} | {statistics.median(r['rps'] for r in runs):,.0f} "
            f"| {statistics.median(r['p50_ms'] for r in runs):.2f} "
            f"| {statistics.median(r['p99_ms'] for r in runs):.2f} | {kept} |"
        )
    lines += [
        "",
        f"Throughput cost of capturing every request: {100 * cost['cost']:.1f} % "
        f"({args.connections} connections, {args.duration:g} s, {args.repeats} runs each, "
        f"{'server and load pinned to one CPU each' if args.pin else 'no CPU pinning'}); "
        "each pair: " + ", ".join(f"{100 * c:.1f} %" for c in cost["pair_costs"]) + ".",
    ]
    if "cpu" in cost:
        c = cost["cpu"]
        lines += [
            "",
            f"Capture's own CPU, in process: record {c['record_us']:.2f} µs a request, writer "
            f"{c['write_us']:.2f} µs a record (1,000-record batches), against "
            f"{c['answer_us']:.0f} µs of one core per answer at the median throughput without "
            f"capture: {100 * c['share']:.2f} % of the server's CPU.",
        ]
    if not speed:
        return "\n".join(lines)
    lines += [
        "",
        "| window rows | decode bodies | drift | quality | (rows/s: decode, drift, quality) |",
        "|--:|--:|--:|--:|--:|",
    ]
    for f in speed:
        n = f["rows"]
        lines.append(
            f"| {n:,} | {f['decode_s']:.3f} s | {f['drift_s']:.3f} s | {f['quality_s']:.3f} s "
            f"| {n / f['decode_s']:,.0f}, {n / f['drift_s']:,.0f}, {n / f['quality_s']:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "closed-loop":
        closed_loop(sys.argv[2:])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--skip-capture", action="store_true")
    parser.add_argument("--skip-evaluation", action="store_true")
    parser.add_argument(
        "--pin", action="store_true", help="server on CPU 0, load generator on CPU 1"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-monitoring-") as tmp:
        cost = {"runs": {"off": [], "on": []}, "cost": float("nan")}
        if not args.skip_capture:
            cost = capture_cost(args, Path(tmp))
            cost["cpu"] = capture_cpu(Path(tmp), cost["median_rps_off"])
        speed = [] if args.skip_evaluation else evaluation_speed(args)
    print(report(cost, speed, args) if not args.skip_capture else json.dumps(speed, indent=1))


if __name__ == "__main__":
    main()
