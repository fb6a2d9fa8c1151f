"""Autologging overhead on ``fit``: ``mw.sklearn.autolog()`` against ``mlflow.sklearn.autolog()``.

    .venv/bin/python bench/bench_autolog.py [--repeats 15] [--chunks 3] [--warmup 3] [--no-write]

Run on demand, never in CI. The same fit on both sides: a ``StandardScaler`` +
``LogisticRegression(max_iter=1000)`` pipeline on scikit-learn's breast-cancer data (569 rows,
30 features, as a DataFrame). Each side runs in a fresh process of its own interpreter:
modelwright in this venv against an embedded platform (SQLite + local files); MLflow
(pinned in ``bench/requirements-mlflow.txt``, in ``bench/.venvs/mlflow``, made on first use)
against a SQLite tracking store with local artifacts. Both log datasets (their default).

The sides take ``--chunks`` turns (a fresh process each). Each round fits once in each
mode, interleaved so that a change of load falls on every mode alike: without autologging, with autologging but ``log_models=False`` (params, metrics,
tags, dataset, run start and end), and with ``log_models=True`` (plus the model save).
Figures are medians over ``--repeats`` rounds after ``--warmup`` rounds; the added time is a
mode's median minus the same process's median without autologging. Prints a table and
replaces the "## Autologging overhead (scikit-learn)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _peers
import bench_report

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "bench" / ".data" / "autolog"  # git-ignored
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Autologging overhead (scikit-learn)"
MODES = ("plain", "no_model", "model")
# numpy's BLAS on one thread on both sides: its idle threads spin, which on a two-core
# machine shared with other work moves every figure more than autologging does.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TARGET = 10  # MLflow's added time over modelwright's, excluding and including the model save


# -- one side, in its own process ---------------------------------------------------------------
def _measure(
    enable: Callable[[bool], None], disable: Callable[[], None], repeats: int, warmup: int
) -> dict[str, dict[str, list[float]]]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    times: dict[str, list[float]] = {m: [] for m in MODES}
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    for round_ in range(warmup + repeats):
        for mode in MODES:
            if mode == "plain":
                disable()
            else:
                enable(mode == "model")
            pipe = Pipeline(
                [("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]
            )
            start, start_cpu = time.perf_counter(), time.process_time()
            pipe.fit(x, y)
            elapsed = (time.perf_counter() - start) * 1000
            used = (time.process_time() - start_cpu) * 1000
            if round_ >= warmup:
                times[mode].append(elapsed)
                cpu[mode].append(used)
    disable()
    return {"times": times, "cpu": cpu}


def modelwright_side(scratch: Path, repeats: int, warmup: int) -> dict[str, Any]:
    import sklearn

    import modelwright as mw

    mw.set_platform(scratch / "home")
    measured = _measure(
        lambda models: mw.sklearn.autolog(log_models=models, silent=True),
        lambda: mw.sklearn.autolog(disable=True),
        repeats,
        warmup,
    )
    runs = len(mw.search_runs(output="list", max_results=50_000))
    return {
        **measured,
        "runs": runs,
        "versions": {"modelwright": mw.__version__, "scikit-learn": sklearn.__version__},
    }


def mlflow_side(scratch: Path, repeats: int, warmup: int) -> dict[str, Any]:
    import mlflow
    import sklearn

    os.chdir(scratch)  # MLflow's default artifact root (./mlruns) goes here
    mlflow.set_tracking_uri(f"sqlite:///{scratch / 'mlflow.db'}")
    mlflow.set_experiment("bench-autolog")
    measured = _measure(
        lambda models: mlflow.sklearn.autolog(log_models=models, silent=True),
        lambda: mlflow.sklearn.autolog(disable=True),
        repeats,
        warmup,
    )
    runs = len(mlflow.search_runs(search_all_experiments=True, max_results=50_000))
    return {
        **measured,
        "runs": runs,
        "versions": {"mlflow": mlflow.__version__, "scikit-learn": sklearn.__version__},
    }


# -- orchestration ------------------------------------------------------------------------------
def _side(python: Path, side: str, args: argparse.Namespace, fresh: bool) -> dict[str, Any]:
    scratch = SCRATCH / side
    if fresh:
        shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **_peers.QUIET_ENV, **ONE_THREAD}
    if side == "modelwright":
        env["PYTHONPATH"] = str(ROOT / "src")
    done = subprocess.run(
        [
            str(python),
            __file__,
            "--side",
            side,
            "--repeats",
            str(_per_chunk(args)),
            "--warmup",
            str(args.warmup),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=scratch,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {side} side failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _per_chunk(args: argparse.Namespace) -> int:
    return max(1, -(-args.repeats // args.chunks))


def _merge(into: dict[str, Any], result: dict[str, Any]) -> None:
    if not into:
        into |= result
        return
    for mode in MODES:
        into["times"][mode] += result["times"][mode]
        into["cpu"][mode] += result["cpu"][mode]
    into["runs"] = result["runs"]


def _summary(result: dict[str, Any], kind: str = "times") -> dict[str, float]:
    med = {m: statistics.median(result[kind][m]) for m in MODES}
    return {
        **med,
        "added_no_model": med["no_model"] - med["plain"],
        "added_model": med["model"] - med["plain"],
    }


def _ratio(mlflow_added: float, mw_added: float) -> str:
    return f"{mlflow_added / mw_added:.1f}×" if mw_added > 0 else "n/a (no added time measured)"


def document(
    mw: dict[str, Any],
    ml: dict[str, Any],
    info: dict[str, str],
    args: argparse.Namespace,
    took: float,
) -> str:
    a, b = _summary(mw), _summary(ml)
    ac, bc = _summary(mw, "cpu"), _summary(ml, "cpu")
    rows = [
        ("median fit, no autologging", a["plain"], b["plain"]),
        ("median fit, autolog(log_models=False)", a["no_model"], b["no_model"]),
        ("median fit, autolog(log_models=True)", a["model"], b["model"]),
        ("added, excluding the model save", a["added_no_model"], b["added_no_model"]),
        ("added, including the model save", a["added_model"], b["added_model"]),
        ("CPU time added, excluding the model save", ac["added_no_model"], bc["added_no_model"]),
        ("CPU time added, including the model save", ac["added_model"], bc["added_model"]),
    ]
    table = "| | modelwright (ms) | MLflow (ms) |\n|---|--:|--:|\n" + "".join(
        f"| {name} | {x:.1f} | {y:.1f} |\n" for name, x, y in rows
    )
    r1 = _ratio(b["added_no_model"], a["added_no_model"])
    r2 = _ratio(b["added_model"], a["added_model"])
    c1 = _ratio(bc["added_no_model"], ac["added_no_model"])
    c2 = _ratio(bc["added_model"], ac["added_model"])
    machine = "".join(f"| {k} | {v} |\n" for k, v in info.items())
    return f"""{HEADING}

The overhead that autologging adds to `fit` of a `StandardScaler` + `LogisticRegression`
pipeline on scikit-learn's breast-cancer data (569 × 30, a DataFrame): `mw.sklearn.autolog()`
against `mlflow.sklearn.autolog()` (MLflow {ml["versions"]["mlflow"]}, its own venv), each
in a fresh process, both on local storage (modelwright embedded: SQLite + local files;
MLflow: a SQLite store + local artifacts), both logging datasets. Measured by
`.venv/bin/python bench/bench_autolog.py` (on demand, never in CI; {took:.0f} s for this
run). Medians of {len(mw["times"]["plain"])} rounds per side; the sides took
{args.chunks} turns each (a fresh process per turn, {args.warmup} warm-up rounds left out
each); each round fits once per mode, interleaved. numpy's BLAS runs on one thread on
both sides (`OMP_NUM_THREADS=1`, `OPENBLAS_NUM_THREADS=1`). Added time: a mode's median minus the same process's median
without autologging. scikit-learn {mw["versions"]["scikit-learn"]} (modelwright side) and
{ml["versions"]["scikit-learn"]} (MLflow side).

| | |
|---|---|
{machine}
{table}
- **MLflow-added / modelwright-added: {r1} excluding the model save, {r2} including it**
  (target ≥ {TARGET}×); in CPU time (the process's, every thread): {c1} and {c2}.
- Wall time is what a user waits for; CPU time is less moved by other work on the
  machine (see *load* above: more runnable processes than cores stretch every wall figure).
- Each autologged fit is one run ({mw["runs"]} modelwright runs, {ml["runs"]} MLflow runs
  in the stores afterwards). modelwright records the training data by content hash as run
  tags (`training_data.digest`, `training_data.shape`); MLflow logs a dataset input with
  its schema and profile.
"""


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section of ``path``, or append it."""
    bench_report.replace_section(path, HEADING, section)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3, help="Rounds left out, per chunk.")
    parser.add_argument("--chunks", type=int, default=3, help="Turns each side takes.")
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/benchmarks.md.")
    parser.add_argument("--side", choices=["modelwright", "mlflow"], help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> int:
    args = _parse()
    if args.side:
        scratch = Path.cwd()
        side = modelwright_side if args.side == "modelwright" else mlflow_side
        print(json.dumps(side(scratch, args.repeats, args.warmup)))
        return 0
    SCRATCH.mkdir(parents=True, exist_ok=True)
    load_before = bench_report.load_average()
    started = time.monotonic()
    mlflow_python = _peers.mlflow_venv(print)
    # The sides take turns, a process each per chunk, so that a change of load hits both.
    mw: dict[str, Any] = {}
    ml: dict[str, Any] = {}
    for chunk in range(args.chunks):
        print(f"chunk {chunk + 1}/{args.chunks}", flush=True)
        _merge(mw, _side(Path(sys.executable), "modelwright", args, fresh=chunk == 0))
        _merge(ml, _side(mlflow_python, "mlflow", args, fresh=chunk == 0))
    info = bench_report.machine(SCRATCH, load_before)
    info.pop("packages", None)
    section = document(mw, ml, info, args, time.monotonic() - started)
    print(section)
    if not args.no_write:
        write_section(DOC, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
