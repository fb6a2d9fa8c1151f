"""Router: what a shed request costs, shed by the worker (before) or at the router's door.

    .venv/bin/python bench/bench_shed.py [--requests 2000] [--repeats 3]

Run on demand, never in CI; about 30 s on two cores. One model server (one worker, a model
whose predict sleeps 120 s, ``max_queue=2``) behind the endpoint router, each in its own
process on uvicorn (uvloop, httptools) as ``modelwright serve`` runs them. Two requests fill
the worker's queue; then requests are sent one at a time, each answered 503:

* *before*: the router has no in-flight limit (as before it had one): it reads the body,
  forwards it, and the worker reads it and sheds it;
* *after*: the router's limit is the worker's queue (``max_queue`` × workers = 2): it sheds
  at its door, the worker untouched (a body this small is read and dropped, which keeps the
  connection; a big one would not be read and the connection would be closed).

Per mode: the latency the client sees (median and p99, from sending the request to the end
of the answer), and the CPU the router and the model server spent per
shed request (from /proc, over the whole run). Prints a Markdown section; docs/benchmarks.md
is not touched.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BODY = json.dumps({"dataframe_records": [{"x": 1.0}]}).encode()
PATH = "/endpoints/ml/dev/slow/invocations"
HEADERS = {"content-type": "application/json"}


class Sleeper:
    """Holds the worker: each predict call sleeps."""

    def predict(self, data: Any) -> Any:
        time.sleep(120)
        return [0.0] * len(data)


def model_app() -> Any:
    import pandas as pd

    from modelwright.registry.artifact import Manifest
    from modelwright.registry.predict import LoadedModel
    from modelwright.registry.signature import Signature, infer_schema
    from modelwright.serving import ServingConfig, create_model_app

    schema = infer_schema(pd.DataFrame({"x": [1.0]}))
    manifest = Manifest(
        flavor="pyfunc", flavor_meta={}, signature=Signature(inputs=schema), files=[]
    )
    model = LoadedModel(raw=Sleeper(), manifest=manifest)
    return create_model_app(model, name="slow", version=1, config=ServingConfig(max_queue=2))


def router_app() -> Any:
    from modelwright.endpoints.models import InvokeDecision
    from modelwright.serving.router import (
        Authorizer,
        EndpointRoute,
        RouterApp,
        RouterMetrics,
        Upstream,
    )

    async def allow(token: str) -> InvokeDecision:
        return InvokeDecision(principal="", allowed=True, status=200, reason="local")

    limit = os.environ["SHED_LIMIT"]
    upstream = Upstream.connect(
        "blue",
        os.environ["SHED_UPSTREAM"],
        16 * 1024 * 1024,
        max_in_flight=None if limit == "none" else int(limit),
    )
    app = RouterApp("ml", "dev", Authorizer(allow, require_token=False), RouterMetrics())
    app.update(
        {
            "slow": EndpointRoute(
                name="slow", generation=1, deployments={"blue": upstream}, weights={"blue": 100}
            )
        }
    )
    return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"bench_shed:{factory}",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        cwd=ROOT / "bench",
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT / 'bench'}", **env},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{factory} did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def queue_depth(port: int) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    line = next(x for x in text.splitlines() if x.startswith("modelwright_serving_queue_depth"))
    return float(line.split()[-1])


def hold(port: int) -> None:
    """A request that waits for the sleeping model (its answer is never awaited here)."""

    def send() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        try:
            conn.request("POST", PATH, BODY, HEADERS)
            conn.getresponse().read()
        except OSError:
            pass

    threading.Thread(target=send, daemon=True).start()


def run(mode: str, requests: int) -> dict[str, float]:
    model_port, router_port = free_port(), free_port()
    model = start("model_app", model_port, {})
    router = start(
        "router_app",
        router_port,
        {
            "SHED_UPSTREAM": f"http://127.0.0.1:{model_port}",
            "SHED_LIMIT": "none" if mode == "before" else "2",
        },
    )
    try:
        hold(router_port)
        hold(router_port)
        deadline = time.monotonic() + 30
        while queue_depth(model_port) < 2:  # until the worker's queue is full
            if time.monotonic() > deadline:
                raise RuntimeError(f"{mode}: the worker's queue did not fill")
            time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", router_port, timeout=30)
        for _ in range(200):  # warm-up
            conn.request("POST", PATH, BODY, HEADERS)
            conn.getresponse().read()
        cpu = (cpu_seconds(router.pid), cpu_seconds(model.pid))
        latencies = []
        for _ in range(requests):
            started = time.perf_counter()
            conn.request("POST", PATH, BODY, HEADERS)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 503:
                raise RuntimeError(f"{mode}: expected 503, got {response.status}")
        spent = (cpu_seconds(router.pid) - cpu[0], cpu_seconds(model.pid) - cpu[1])
        latencies.sort()
        return {
            "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "router_us": spent[0] / requests * 1e6,
            "model_us": spent[1] / requests * 1e6,
        }
    finally:
        for proc in (router, model):
            proc.kill()
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for _ in range(args.repeats):
        for mode, runs in results.items():  # interleaved: drift in the machine's load hits both
            runs.append(run(mode, args.requests))
    lines = [
        "## Router: shedding at the door",
        "",
        f"One shed request (503), {args.requests} sent one at a time, {args.repeats} repeats "
        "interleaved; medians over the repeats.",
        "",
        "| shed by | p50 (ms) | p99 (ms) | router CPU per request (µs) | model server CPU per request (µs) |",
        "|---|--:|--:|--:|--:|",
    ]
    names = {"before": "the worker (before)", "after": "the router, at its door (after)"}
    for mode, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        lines.append(
            f"| {names[mode]} | {med['p50']:.3f} | {med['p99']:.3f} | {med['router_us']:.0f} | "
            f"{med['model_us']:.0f} |"
        )
    lines.append("")
    lines.append(
        "Each repeat: "
        + "; ".join(
            f"{mode} p50 " + " / ".join(f"{r['p50']:.3f}" for r in runs)
            for mode, runs in results.items()
        )
        + " ms."
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
