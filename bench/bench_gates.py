"""Promotion gates: the latency each gate kind adds to a promotion, and the smoke gate's parts.

    .venv/bin/python bench/bench_gates.py [--repeats 10] [--rows 100]

Run on demand, never in CI. On the embedded default (SQLite and local files in a scratch
home under ``bench/.data``), a scikit-learn pipeline (StandardScaler + LogisticRegression)
fitted on scikit-learn's breast-cancer set (shipped with scikit-learn: nothing downloaded),
400 rows to train, 169 kept as a holdout registered in the target environment.

For each configuration of the target's policy (no gate, then each gate kind alone: metric,
policy, evaluation, champion, smoke), ``--repeats`` promotions of a fresh version each (one
untimed warm-up first): the time from the request (``client.promote(..., wait=False)``) to the
moment the last gate was judged (its recorded ``at``), and to the promotion's end, with a
worker driven in this process as the tests drive it (``Worker(platform).run_once()``). The
gates that load models (evaluation, champion, smoke) do it in a child process of the worker,
as a server's worker does. The smoke gate replays ``--rows`` holdout rows one request each;
its start-up, replay and teardown are taken from its evidence.

Prints a Markdown section and writes it to ``bench/.data/gates.md``; docs/benchmarks.md is
not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench_report import wrap

BENCH = Path(__file__).resolve().parent
SCRATCH = BENCH / ".data"  # git-ignored; on the same disk as the checkout
OUTPUT = SCRATCH / "gates.md"
HEADING = "## Promotion gates: added latency"


def gates(rows: int) -> dict[str, list[dict[str, Any]]]:
    holdout = {"dataset": "holdout@v1", "label": "target"}
    return {
        "none": [],
        "metric": [{"kind": "metric", "require": ["accuracy >= 0.9"]}],
        "policy": [{"kind": "policy"}],
        "evaluation": [{"kind": "evaluation", **holdout, "require": ["roc_auc >= 0.9"]}],
        "champion": [{"kind": "champion", **holdout, "metric": "roc_auc", "margin": 0.05}],
        "smoke": [{"kind": "smoke", "dataset": "holdout@v1", "rows": rows, "p99_ms": 500}],
    }


def spec(lake: Path, staging: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "workspaces": [
            {
                "name": "bench",
                "environments": [
                    {"name": "dev", "datastores": [{"name": "lake", "url": str(lake / "dev")}]},
                    {
                        "name": "staging",
                        "promotion": {"gates": staging},
                        "datastores": [{"name": "lake", "url": str(lake / "staging")}],
                    },
                ],
            }
        ]
    }


def _q(values: list[float], q: int) -> float:
    """The q-th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, -(-q * len(ordered) // 100) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    for name in [k for k in os.environ if k.startswith("MODELWRIGHT_")]:
        del os.environ[name]
    import bench_report
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import modelwright
    from modelwright.workflows import Worker

    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    scratch = SCRATCH / f"gates-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    load_before = bench_report.load_average()
    configs = gates(args.rows)
    results: dict[str, dict[str, list[float]]] = {}
    try:
        client = modelwright.connect(scratch / "home")
        platform = client.transport.local_platform
        assert platform is not None
        client.apply(spec(scratch / "home" / "data", []))
        data = load_breast_cancer(as_frame=True).frame
        train, holdout = data.iloc[:400], data.iloc[400:]
        x, y = train.drop(columns=["target"]), train["target"]
        client.register_dataset("train", train, workspace="bench", environment="dev")
        client.register_dataset("holdout", holdout, workspace="bench", environment="staging")
        versions = iter(range(1, 10_000))

        def fresh() -> int:
            """A new version; a different seed makes a different artifact, so a new digest."""
            with client.start_run("fit", workspace="bench", environment="dev") as run:
                client.load_dataset("train@v1", workspace="bench", environment="dev", run_id=run.id)
                seed = next(versions)
                model = make_pipeline(
                    StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed)
                ).fit(x, y)
                run.log_metric("accuracy", float(model.score(x, y)))
                number: int = run.log_model(model, "cancer", input_example=x.head(5)).version
            return number

        worker = Worker(platform)
        for kind, policy in configs.items():
            client.apply(spec(scratch / "home" / "data", policy))
            took: dict[str, list[float]] = {"judged": [], "done": [], "parts": []}
            smoke_parts: list[tuple[float, float, float, float]] = []
            for rep in range(args.repeats + 1):
                version = fresh()
                requested = time.time()
                p = client.promote(
                    f"models:/cancer/{version}",
                    "staging",
                    alias="champion",
                    workspace="bench",
                    wait=False,
                )
                worker.run_once()
                done = time.time()
                p = client.get_promotion(p.id)
                if p.status != "promoted":
                    raise AssertionError(f"{kind}: promotion {p.id} {p.status}: {p.outcome}")
                if rep == 0:
                    continue  # warm-up: caches, imports, and a champion to compare with
                judged = max((g.at.timestamp() for g in p.gates if g.at), default=done)
                took["judged"].append((judged - requested) * 1000)
                took["done"].append((done - requested) * 1000)
                if kind == "smoke":
                    ev = p.gates[0].evidence
                    smoke_parts.append(
                        (ev["prepare_s"], ev["startup_s"], ev["replay_s"], ev["teardown_s"])
                    )
                    took.setdefault("p99", []).append(ev["p99_ms"])
                    took.setdefault("p50", []).append(ev["p50_ms"])
            if smoke_parts:
                for i, part in enumerate(("prepare", "startup", "replay", "teardown")):
                    took[part] = [parts[i] * 1000 for parts in smoke_parts]
            results[kind] = took
            log(
                f"{kind}: request to judged, median {statistics.median(took['judged']):.0f} ms, "
                f"p90 {_q(took['judged'], 90):.0f} ms"
            )
        client.close()
        info = bench_report.machine(scratch, load_before)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    from importlib.metadata import version

    info |= {"sklearn": version("scikit-learn")}
    text = document(args, info, results, time.monotonic() - started)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")
    return 0


def document(
    args: argparse.Namespace,
    info: dict[str, str],
    results: dict[str, dict[str, list[float]]],
    elapsed: float,
) -> str:
    base = statistics.median(results["none"]["done"])
    lines = [
        HEADING,
        "",
        wrap(
            "The time a promotion takes from its request to its last gate judged, for each "
            "gate kind alone in the target's policy, against a policy with no gate. Measured "
            f"by `.venv/bin/python bench/bench_gates.py` ({elapsed:.0f} s for this run): "
            f"{args.repeats} promotions per row, each of a fresh version, after one untimed "
            "warm-up; median and p90 (nearest rank). The embedded default (SQLite, local "
            "files); a worker driven in the benchmark's process; a scikit-learn pipeline "
            "(StandardScaler + LogisticRegression) on the breast-cancer set, 169 holdout "
            f"rows in the target; the smoke gate replays {args.rows} of them, one request "
            "each.",
            bullet=False,
        ),
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
        "| gate | request → judged, median | p90 | request → promoted, median | added over no gate |",
        "|---|--:|--:|--:|--:|",
    ]
    for kind, took in results.items():
        judged = took["judged"] if kind != "none" else took["done"]
        done = statistics.median(took["done"])
        lines.append(
            f"| {kind} | {statistics.median(judged):,.0f} ms | {_q(judged, 90):,.0f} ms "
            f"| {done:,.0f} ms | {'—' if kind == 'none' else f'{done - base:+,.0f} ms'} |"
        )
    smoke = results.get("smoke", {})
    if smoke:
        lines += [
            "",
            "| smoke gate, end to end | median | p90 |",
            "|---|--:|--:|",
        ]
        for part, label in (
            ("prepare", "in the child: load the model, read the rows, offline predictions"),
            ("startup", "start-up: worker process, model load, first ready answer"),
            ("replay", f"replay of {args.rows} rows, one request each, and comparison"),
            ("teardown", "teardown: SIGTERM to the process group, wait"),
            ("p50", "served latency per row, p50 (one request)"),
            ("p99", "served latency per row, p99 (one request)"),
        ):
            values = smoke[part]
            unit = "ms"
            lines.append(
                f"| {label} | {statistics.median(values):,.1f} {unit} "
                f"| {_q(values, 90):,.1f} {unit} |"
            )
    lines += [
        "",
        wrap(
            "*no gate*: request to promoted (the workflow's checks and the change itself). "
            "metric and policy read the version's records in the workflow's first step; "
            "evaluation, champion and smoke each start a child process of the worker (its "
            "Python start-up and imports are most of their cost), which loads the model (and "
            "for champion, the current champion too) and reads the holdout."
        ),
        wrap(
            "*smoke*: the child starts the deployment worker of `modelwright serve` "
            "(`python -m modelwright.serving.worker`) on an ephemeral loopback port, waits "
            "for its readiness answer, posts each row to `/invocations` with httpx, compares "
            "with the offline predictions, then stops the worker's process group."
        ),
        wrap(
            "No peer is measured: a managed platform's equivalent (a SageMaker endpoint "
            "deployed for a test) cannot run here, so there is nothing to compare against."
        ),
        wrap(
            "The machine was shared with other work during the run (see the load average): "
            "read the p90 as noise as much as signal."
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
