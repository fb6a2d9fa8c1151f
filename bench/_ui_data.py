"""The data of the web UI benchmark (``bench_ui.py``), the same for every tool, and its MLflow
loader.

Standard library only at import time: imported by ``bench_ui.py`` (project venv) and run as a
script by MLflow's own venv, which loads the data into an MLflow SQLite database through
``MlflowClient`` over that database (MLflow's SQLAlchemy store in-process: no server, no HTTP,
the fastest path its public API has):

    bench/.venvs/mlflow/bin/python bench/_ui_data.py --db PATH --artifacts DIR --spec JSON
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass

EXPERIMENT = "wide"  # the experiment of many runs
LONG_EXPERIMENT = "long"  # the experiment of the run with the long series
LONG_RUN = "long-run"
LONG_KEY = "loss"
SORT_KEY = "m00"  # the metric the runs table is sorted by


@dataclass(frozen=True)
class Spec:
    runs: int = 10_000
    params: int = 20
    metrics: int = 20
    steps: int = 1_000_000
    compare: int = 100

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def run_name(i: int) -> str:
    return f"run-{i:05d}"


def run_values(spec: Spec, i: int) -> tuple[dict[str, str], dict[str, float]]:
    """The params and metrics (one point each, step 0) of run ``i``."""
    rng = random.Random(i)
    params = {f"p{j:02d}": str(rng.randint(1, 1000)) for j in range(spec.params)}
    metrics = {f"m{j:02d}": round(rng.random(), 6) for j in range(spec.metrics)}
    return params, metrics


def top_run(spec: Spec) -> tuple[str, float]:
    """The name and value of the run first in the table sorted by ``SORT_KEY``, descending."""
    best = max(range(spec.runs), key=lambda i: (run_values(spec, i)[1][SORT_KEY], -i))
    return run_name(best), run_values(spec, best)[1][SORT_KEY]


def long_value(step: int) -> float:
    """A decaying loss with a wobble and a spike every 100,000 steps (the chart must keep)."""
    spike = 2.0 if step % 100_000 == 50_000 else 0.0
    return 1.0 / (1.0 + step / 20_000) + 0.02 * math.sin(step / 500) + spike


def compared(spec: Spec) -> list[str]:
    """The names of the runs opened in the comparison: the first ``spec.compare``."""
    return [run_name(i) for i in range(spec.compare)]


# -- MLflow (run by MLflow's venv) ------------------------------------------------------------
def load_mlflow(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="_ui_data.py")
    parser.add_argument("--db", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args(argv)
    spec = Spec(**json.loads(args.spec))

    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    client = MlflowClient(tracking_uri=f"sqlite:///{args.db}")
    started = time.perf_counter()
    wide = client.create_experiment(EXPERIMENT, artifact_location=f"{args.artifacts}/wide")
    ts = int(time.time() * 1000)
    ids: dict[str, str] = {}
    for i in range(spec.runs):
        params, metrics = run_values(spec, i)
        run = client.create_run(wide, run_name=run_name(i), start_time=ts + i)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, ts, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        client.set_terminated(run.info.run_id, end_time=ts + i + 1)
        ids[run_name(i)] = run.info.run_id
    wide_seconds = time.perf_counter() - started

    started = time.perf_counter()
    long = client.create_experiment(LONG_EXPERIMENT, artifact_location=f"{args.artifacts}/long")
    run_id = client.create_run(long, run_name=LONG_RUN).info.run_id
    # MLflow's own limit: 1,000 metrics per log_batch.
    for first in range(0, spec.steps, 1_000):
        last = min(first + 1_000, spec.steps)
        client.log_batch(
            run_id, metrics=[Metric(LONG_KEY, long_value(s), ts, s) for s in range(first, last)]
        )
    client.set_terminated(run_id)
    return {
        "experiment_id": wide,
        "long_experiment_id": long,
        "long_run_id": run_id,
        "run_ids": ids,
        "wide_seconds": wide_seconds,
        "long_seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    print(json.dumps(load_mlflow(sys.argv[1:])))
