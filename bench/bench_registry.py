"""Model registry: log + register, then cold load, of two scikit-learn models, against MLflow.

    .venv/bin/python bench/bench_registry.py [--quick] [--repeats 3] [--load-repeats 5]
        [--big-mb 50] [--mlflow-format skops|cloudpickle|pickle] [--skip-mlflow]

``--quick`` is a smoke run (a 5 MB "large" model, 2 repeats): its figures are not for
publishing. The full run takes a few minutes (about 2.5 min on two busy cores with one
repeat of each; the defaults do 3 log repeats and 5 loads per row).

Run on demand, never in CI. Two models, fitted the same way (same seed, same scikit-learn) on
both sides from synthetic data made with NumPy (nothing downloaded):

* ``pipeline``: StandardScaler + LogisticRegression over 30 numeric columns, 569 rows (the
  shape of scikit-learn's breast-cancer set);
* ``knn``: KNeighborsClassifier (brute force) fitted on ``--big-mb`` MB of float64 data (30
  columns), which it keeps as one array: a model of that size.

modelwright (embedded, ``modelwright.connect(home)``, in this process): ``with
client.start_run("bench") as run: run.log_model(model, input_example=df.head(5),
registered_model_name=name)``, saved with skops. MLflow (pinned in
``bench/requirements-mlflow.txt``, venv ``bench/.venvs/mlflow``, made by ``_peers.py``), in a
subprocess of its venv running this file (``mlflow-log``): a SQLite tracking and registry store
and a local artifact directory, ``with mlflow.start_run(): mlflow.sklearn.log_model(model,
name="model", input_example=df.head(5), registered_model_name=name)``, saved in MLflow's
default format (skops in MLflow 3.17, outside Databricks; ``--mlflow-format cloudpickle`` to
compare with a pickle), which the report reads back from the logged MLmodel.

Then cold loads, each in a fresh process of the system's own venv, interleaved: ``import
modelwright; connect(home).load_model("models:/<name>/1").predict(batch)`` (embedded), the same
with ``connect(url, token=...)`` against a ``modelwright server`` over the same home that the
benchmark starts (remote), and ``import mlflow;
mlflow.pyfunc.load_model("models:/<name>/1").predict(batch)``, timed inside the process
(import + load + predict) and as the whole process's wall time; every prediction is checked
against the fitted model's. Prints a Markdown section and writes it to
``bench/.data/registry.md``; docs/benchmarks.md is not touched.
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
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _peers
from bench_report import wrap as _wrap

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCRATCH = BENCH / ".data"  # git-ignored; on the same disk as the checkout
OUTPUT = SCRATCH / "registry.md"
HEADING = "## Model registry: log, register and cold load"

TARGET_LOAD = 3.0  # the issue: at least as fast as MLflow on each, and 3× faster on load

COLUMNS = 30
SMALL_ROWS = 569  # breast-cancer shape
BATCH_ROWS = 20  # rows predicted by each cold load
MODELS = ("pipeline", "knn")
# What a cold load of each model imports whatever the platform: the model's scikit-learn
# modules and pandas (the predictions' input). Measured alone, it is the floor of both sides.
MODEL_MODULES = {
    "pipeline": ["sklearn.pipeline", "sklearn.preprocessing", "sklearn.linear_model"],
    "knn": ["sklearn.neighbors"],
}


# -- the models (the same code on both sides) -------------------------------------------------
def build(kind: str, big_mb: float) -> tuple[Any, Any]:
    """The fitted model and its training frame; deterministic for a given NumPy/sklearn."""
    import numpy as np
    import pandas as pd

    columns = [f"f{i:02d}" for i in range(COLUMNS)]
    if kind == "pipeline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        rng = np.random.default_rng(42)
        scale = rng.uniform(0.1, 100.0, size=COLUMNS)
        x = rng.normal(size=(SMALL_ROWS, COLUMNS)) * scale + scale
        y = ((x / scale)[:, :5].sum(axis=1) + rng.normal(size=SMALL_ROWS) > 5).astype(int)
        frame = pd.DataFrame(x, columns=columns)
        model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1_000))])
        return model.fit(frame, y), frame
    if kind == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        rng = np.random.default_rng(7)
        rows = int(big_mb * 1e6 / (COLUMNS * 8))
        frame = pd.DataFrame(rng.normal(size=(rows, COLUMNS)), columns=columns)
        y = rng.integers(0, 2, size=rows)
        return KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(frame, y), frame
    raise ValueError(kind)


def batch(kind: str) -> tuple[list[str], list[list[float]]]:
    """The rows each cold load predicts (the same for both systems)."""
    import numpy as np

    rng = np.random.default_rng(1234 if kind == "pipeline" else 4321)
    scale = 30.0 if kind == "pipeline" else 1.0
    rows = (rng.normal(size=(BATCH_ROWS, COLUMNS)) * scale + scale / 2).tolist()
    return [f"f{i:02d}" for i in range(COLUMNS)], rows


def predictions(model: Any, columns: list[str], rows: list[list[float]]) -> list[int]:
    import pandas as pd

    return [int(v) for v in model.predict(pd.DataFrame(rows, columns=columns))]


# -- modelwright (this process) ---------------------------------------------------------------
def modelwright_log(
    home: Path, models: dict[str, tuple[Any, Any]], repeats: int, log: Any
) -> dict[str, Any]:
    import modelwright

    out: dict[str, Any] = {"version": modelwright.__version__, "models": {}}
    with modelwright.connect(home) as client:
        out["token"] = client.create_token(name="bench").secret  # for the remote loads
        small, frame = models["pipeline"]
        with client.start_run("warm-up") as run:  # untimed: imports, workspace, code paths
            run.log_model(small, input_example=frame.head(5), registered_model_name="warm-up")
        for kind in MODELS:
            out["models"][kind] = {"log_model": [], "run": [], "versions": []}
        for r in range(1, repeats + 1):
            for kind, (model, frame) in models.items():
                log(f"modelwright: log and register {kind}, repeat {r}/{repeats}")
                got = out["models"][kind]
                started = time.perf_counter()
                with client.start_run("bench") as run:
                    before = time.perf_counter()
                    info = run.log_model(
                        model, input_example=frame.head(5), registered_model_name=kind
                    )
                    got["log_model"].append(time.perf_counter() - before)
                got["run"].append(time.perf_counter() - started)
                got["versions"].append(info.version)
                got["bytes"] = sum(f.size for f in info.files)
                got["files"] = sorted(f.path for f in info.files)
        for kind in MODELS:
            versions = out["models"][kind]["versions"]
            if versions != list(range(1, repeats + 1)):
                raise AssertionError(f"modelwright registered versions {versions} of {kind}")
    return out


MODELWRIGHT_LOAD = """
import json, sys, time
case = json.loads(open(sys.argv[1]).read())
started, cpu = time.perf_counter(), time.process_time()
import modelwright
client = modelwright.connect(case["target"], token=case.get("token"))
imported = time.perf_counter()
model = client.load_model(case["uri"])
loaded = time.perf_counter()
import pandas as pd
pred = model.predict(pd.DataFrame(case["rows"], columns=case["columns"]))
done, cpu = time.perf_counter(), time.process_time() - cpu
print(json.dumps({"import": imported - started, "load": loaded - started, "total": done - started,
                  "cpu": cpu, "pred": [int(v) for v in pred], "type": type(model.raw).__name__}))
"""

MLFLOW_LOAD = """
import json, sys, time
case = json.loads(open(sys.argv[1]).read())
started, cpu = time.perf_counter(), time.process_time()
import mlflow
import mlflow.pyfunc
mlflow.set_tracking_uri(case["tracking"])
imported = time.perf_counter()
model = mlflow.pyfunc.load_model(case["uri"])
loaded = time.perf_counter()
import pandas as pd
pred = model.predict(pd.DataFrame(case["rows"], columns=case["columns"]))
done, cpu = time.perf_counter(), time.process_time() - cpu
print(json.dumps({"import": imported - started, "load": loaded - started, "total": done - started,
                  "cpu": cpu, "pred": [int(v) for v in pred],
                  "type": type(model.get_raw_model()).__name__}))
"""


# The floor: a fresh process that imports only what a load of the model cannot avoid, then
# what a remote client cannot avoid (pydantic, pydantic-settings, httpx), then the rest of the
# metadata stack the blueprint prescribes (SQLAlchemy's ORM); nothing is loaded.
FLOOR = """
import json, sys, time
case = json.loads(open(sys.argv[1]).read())
started, cpu = time.perf_counter(), time.process_time()
import importlib
import pandas
for name in case["modules"]:
    importlib.import_module(name)
shared, cpu_shared = time.perf_counter(), time.process_time() - cpu
import pydantic, pydantic_settings, httpx
client, cpu_client = time.perf_counter(), time.process_time() - cpu
import sqlalchemy, sqlalchemy.orm
done, cpu = time.perf_counter(), time.process_time() - cpu
print(json.dumps({"import": shared - started, "load": client - started, "total": done - started,
                  "cpu": cpu, "cpu_parts": [cpu_shared, cpu_client], "pred": None}))
"""


def start_server(home: Path, scratch: Path, log: Any) -> tuple[str, subprocess.Popen[bytes]]:
    """``modelwright server`` over ``home`` on a free loopback port, for the remote loads."""
    port = _peers.free_port()
    url = f"http://127.0.0.1:{port}"
    logfile = scratch / "modelwright-server.log"
    log(f"starting modelwright server on {url}")
    cmd = [sys.executable, "-m", "modelwright", "server", "--port", str(port), "--no-worker"]
    env = {**peer_env(), "MODELWRIGHT_HOME": str(home)}
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    _peers.wait_http(f"{url}/healthz", proc, 120, logfile)
    return url, proc


def cold_load(python: Path, code: str, case: Path, env: dict[str, str]) -> dict[str, Any]:
    """One load in a fresh process: its own timings, plus the process's wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-c", code, str(case)], capture_output=True, text=True, env=env, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold load failed ({done.returncode}):\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


# -- MLflow (its venv, a subprocess running this file) ----------------------------------------
def mlflow_log(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="mlflow-log")
    parser.add_argument("--tracking", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--repeats", type=int, required=True)
    parser.add_argument("--big-mb", type=float, required=True)
    parser.add_argument("--cases", type=Path, required=True)
    parser.add_argument("--format", default="")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    options = {"serialization_format": args.format} if args.format else {}

    import mlflow
    import sklearn
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(args.tracking)
    experiment = mlflow.create_experiment("bench", artifact_location=args.artifacts)
    cases = json.loads(args.cases.read_text())
    models = {kind: build(kind, args.big_mb) for kind in MODELS}
    for kind, (model, _) in models.items():
        # The same model as modelwright's side: the same predictions on the same rows.
        got = predictions(model, cases[kind]["columns"], cases[kind]["rows"])
        if got != cases[kind]["expected"]:
            raise AssertionError(f"MLflow side: {kind} was not fitted to the same model")

    small, frame = models["pipeline"]
    with mlflow.start_run(experiment_id=experiment):  # untimed: store, migrations, code paths
        mlflow.sklearn.log_model(
            small, name="model", input_example=frame.head(5), registered_model_name="warm-up"
        )
    out: dict[str, Any] = {
        "version": mlflow.__version__,
        "sklearn": sklearn.__version__,
        "python": ".".join(map(str, sys.version_info[:3])),
        "models": {kind: {"log_model": [], "run": [], "versions": []} for kind in MODELS},
    }
    for r in range(1, args.repeats + 1):
        for kind, (model, frame) in models.items():
            print(f"MLFLOW-PROGRESS log and register {kind}, repeat {r}/{args.repeats}", flush=True)
            got = out["models"][kind]
            started = time.perf_counter()
            with mlflow.start_run(experiment_id=experiment):
                before = time.perf_counter()
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    input_example=frame.head(5),
                    registered_model_name=kind,
                    **options,
                )
                got["log_model"].append(time.perf_counter() - before)
            got["run"].append(time.perf_counter() - started)
            got["versions"].append(int(info.registered_model_version))
            local = Path(mlflow.artifacts.download_artifacts(info.model_uri))  # in place, local
            files = [p for p in local.rglob("*") if p.is_file()]
            got["bytes"] = sum(p.stat().st_size for p in files)
            got["files"] = sorted(p.relative_to(local).as_posix() for p in files)
            flavor = mlflow.models.Model.load(str(local)).flavors["sklearn"]
            got["format"] = flavor.get("serialization_format", "?")
    client = MlflowClient()
    for kind in MODELS:
        version = client.get_model_version(kind, "1")
        if version.status != "READY":
            raise AssertionError(f"MLflow {kind} version 1 is {version.status}")
    args.out.write_text(json.dumps(out))


def mlflow_side(
    python: Path, work: Path, cases: Path, repeats: int, big_mb: float, fmt: str, log: Any
) -> dict[str, Any]:
    work.mkdir(parents=True)
    result = work / "result.json"
    cmd = [str(python), str(Path(__file__).resolve()), "mlflow-log"]
    cmd += ["--tracking", tracking_uri(work), "--artifacts", (work / "mlartifacts").as_uri()]
    cmd += ["--repeats", str(repeats), "--big-mb", str(big_mb), "--cases", str(cases)]
    cmd += ["--out", str(result), "--format", fmt]
    logfile = work / "mlflow.log"
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=work, env=peer_env(), stdout=subprocess.PIPE, stderr=out)
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            if line.startswith("MLFLOW-PROGRESS"):
                log("MLflow: " + line.removeprefix("MLFLOW-PROGRESS ").strip())
        if proc.wait() != 0:
            out.flush()
            raise RuntimeError(f"MLflow side failed ({proc.returncode}):\n{_tail(logfile)}")
    return json.loads(result.read_text())


def tracking_uri(work: Path) -> str:
    return f"sqlite:///{work / 'mlflow.db'}"


def peer_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELWRIGHT_", "MLFLOW_"))}
    return {**env, **_peers.QUIET_ENV}


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- report -----------------------------------------------------------------------------------
@dataclass
class Load:
    system: str
    model: str
    variant: str
    total: list[float] = field(default_factory=list)  # import + load + predict, in process
    load: list[float] = field(default_factory=list)  # import + load, in process
    imports: list[float] = field(default_factory=list)  # the import alone
    wall: list[float] = field(default_factory=list)  # the whole process
    cpu: list[float] = field(default_factory=list)  # CPU time of import + load + predict
    # The floor only: CPU time after the model's modules, and after the client's stack.
    cpu_parts: list[list[float]] = field(default_factory=list)


def med(values: list[float]) -> float:
    return statistics.median(values)


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:,.1f}"
    if value >= 1:
        return f"{value:,.2f}"
    return f"{value:.2g}"


def _each(values: list[float]) -> str:
    return " / ".join(_fmt(v) for v in values)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f}" if n >= 1e5 else f"{n / 1e6:.3f}"


LOAD_VARIANTS = {
    "cold": "fresh process, download cache emptied",
    "cached": "fresh process, files already in the download cache",
    "remote": "fresh process, over HTTP from `modelwright server`, download cache emptied",
    "remote-cached": "fresh process, over HTTP, files already in the download cache",
    "mlflow": "fresh process, read in place from the local artifact store",
    "floor": "fresh process, imports only",
}


def log_table(mw: dict[str, Any], ml: dict[str, Any] | None) -> str:
    lines = [
        "| system | model | artifact (MB) | log_model + register (s) | whole run (s) | "
        "× MLflow | each repeat, log_model (s) |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for kind in MODELS:
        mine = mw["models"][kind]
        theirs = ml["models"][kind] if ml else None
        ratio = f"{med(theirs['log_model']) / med(mine['log_model']):,.1f}×" if theirs else "-"
        lines.append(
            f"| modelwright | {kind} | {_mb(mine['bytes'])} | {_fmt(med(mine['log_model']))} | "
            f"{_fmt(med(mine['run']))} | {ratio} | {_each(mine['log_model'])} |"
        )
        if theirs:
            lines.append(
                f"| MLflow | {kind} | {_mb(theirs['bytes'])} | "
                f"{_fmt(med(theirs['log_model']))} | {_fmt(med(theirs['run']))} | | "
                f"{_each(theirs['log_model'])} |"
            )
    return "\n".join(lines)


def load_table(loads: list[Load]) -> str:
    lines = [
        "| system | model | load | import + load + predict (s) | of which import + connect (s) | "
        "of which predict (s) | process wall (s) | CPU, in process (s) | × MLflow (in process) | "
        "× MLflow (wall) | × MLflow (CPU) | each repeat, in process (s) |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for kind in MODELS:
        theirs = next((x for x in loads if x.model == kind and x.system == "MLflow"), None)
        for x in (x for x in loads if x.model == kind and x.system != "floor"):
            ratio_in = ratio_wall = ratio_cpu = ""
            if theirs and x.system != "MLflow":
                ratio_in = f"{med(theirs.total) / med(x.total):,.1f}×"
                ratio_wall = f"{med(theirs.wall) / med(x.wall):,.1f}×"
                ratio_cpu = f"{med(theirs.cpu) / med(x.cpu):,.1f}×"
            predict = med([t - lo for t, lo in zip(x.total, x.load, strict=True)])
            lines.append(
                f"| {x.system} | {kind} | {LOAD_VARIANTS[x.variant]} | {_fmt(med(x.total))} | "
                f"{_fmt(med(x.imports))} | {_fmt(predict)} | {_fmt(med(x.wall))} | "
                f"{_fmt(med(x.cpu))} | {ratio_in} | {ratio_wall} | {ratio_cpu} | {_each(x.total)} |"
            )
    return "\n".join(lines)


def targets(mw: dict[str, Any], ml: dict[str, Any] | None, loads: list[Load]) -> list[str]:
    if ml is None:
        return ["MLflow was not run (`--skip-mlflow`): no target can be judged."]
    lines = []
    for kind in MODELS:
        mine, theirs = med(mw["models"][kind]["log_model"]), med(ml["models"][kind]["log_model"])
        ratio = theirs / mine
        met = "met" if ratio >= 1 else "**missed**"
        lines.append(
            f"{kind}: log and register took {_fmt(mine)} s against MLflow's {_fmt(theirs)} s "
            f"({ratio:,.1f}× as fast): target at least as fast {met}."
        )
    for kind in MODELS:
        theirs = next(x for x in loads if x.model == kind and x.system == "MLflow")
        for variant, what in WHAT.items():
            mine = next(
                (
                    x
                    for x in loads
                    if (x.model, x.system, x.variant) == (kind, "modelwright", variant)
                ),
                None,
            )
            if mine is None:
                continue
            ratio = med(theirs.total) / med(mine.total)
            wall = med(theirs.wall) / med(mine.wall)
            cpu = med(theirs.cpu) / med(mine.cpu)
            met = "met" if ratio >= TARGET_LOAD else "**missed**"
            lines.append(
                f"{kind}, {what}: {_fmt(med(mine.total))} s against MLflow's "
                f"{_fmt(med(theirs.total))} s in process ({ratio:,.1f}×; whole process "
                f"{wall:,.1f}×; CPU time {cpu:,.1f}×): target ≥ {TARGET_LOAD:g}× {met}."
            )
        floor = next((x for x in loads if x.model == kind and x.system == "floor"), None)
        rows = {x.variant: x for x in loads if (x.model, x.system) == (kind, "modelwright")}
        if floor is not None and "cold" in rows:
            shared, client, stack = med(floor.imports), med(floor.load), med(floor.total)
            embedded, remote = med(rows["cold"].total), None
            if "remote" in rows:
                remote = med(rows["remote"].total)
            own = f"of modelwright's embedded {_fmt(embedded)} s, {_fmt(embedded - stack)} s"
            if remote is not None:
                own += (
                    f" and of its remote {_fmt(remote)} s, {_fmt(remote - client)} s over "
                    "the remote floor"
                )
            lines.append(
                f"{kind}, the floor: a fresh process that only imports pandas and the model's "
                f"scikit-learn modules ({', '.join(MODEL_MODULES[kind])}) takes "
                f"{_fmt(shared)} s (MLflow's load ÷ this: "
                f"{med(theirs.total) / shared:,.1f}×); adding what a remote client cannot do "
                f"without (pydantic, pydantic-settings, httpx), {_fmt(client)} s "
                f"({med(theirs.total) / client:,.1f}×); adding the rest of the blueprint's "
                f"metadata stack (SQLAlchemy's ORM), {_fmt(stack)} s "
                f"({med(theirs.total) / stack:,.1f}×). {TARGET_LOAD:g}× MLflow's load needs "
                f"the whole load under {_fmt(med(theirs.total) / TARGET_LOAD)} s; {own} are "
                "modelwright's own work (importing the client, the database when embedded, "
                "skops, reading and verifying the files, predicting)."
            )
            cpu_shared = med([c[0] for c in floor.cpu_parts])
            cpu_client = med([c[1] for c in floor.cpu_parts])
            cpu_remote = f", remote {_fmt(med(rows['remote'].cpu))} s" if "remote" in rows else ""
            lines.append(
                f"{kind}, the same in CPU time (less moved by other work on a shared machine): "
                f"the floor {_fmt(cpu_shared)} s, with the client's stack {_fmt(cpu_client)} s, "
                f"with SQLAlchemy's ORM {_fmt(med(floor.cpu))} s; modelwright embedded "
                f"{_fmt(med(rows['cold'].cpu))} s{cpu_remote}; MLflow {_fmt(med(theirs.cpu))} s, "
                f"so {TARGET_LOAD:g}× needs {_fmt(med(theirs.cpu) / TARGET_LOAD)} s."
            )
    return lines


WHAT = {
    "cold": "cold load",
    "cached": "load with the download cache filled",
    "remote": "remote cold load",
    "remote-cached": "remote load with the download cache filled",
}


def document(
    args: argparse.Namespace,
    info: dict[str, str],
    mw: dict[str, Any],
    ml: dict[str, Any] | None,
    loads: list[Load],
    elapsed: float,
) -> str:
    mlflow_version = ml["version"] if ml else f"{_peers.mlflow_pin()} (not run)"
    rows = int(args.big_mb * 1e6 / (COLUMNS * 8))
    intro = (
        "The registry issue's benchmark: logging and registering, then loading cold in a fresh "
        "process, a scikit-learn pipeline and a model of about "
        f"{args.big_mb:g} MB, with modelwright (embedded, and remote through `modelwright "
        "server`) and with MLflow (SQLite store, local artifacts). Measured by `.venv/bin/python bench/bench_registry.py` (on demand, never "
        f"in CI; {elapsed:.0f} s for this run). Logging figures are the median of "
        f"{args.repeats} repeats, loads the median of {args.load_repeats} fresh processes per "
        "row; all are shown. Ratios divide MLflow's time by modelwright's: above 1× "
        "modelwright is faster."
    )
    versions = (
        f"modelwright {mw['version']}, mlflow {mlflow_version} (pinned in "
        f"`bench/requirements-mlflow.txt`), scikit-learn {info['sklearn']}, skops "
        f"{info['skops']}, numpy {info['numpy']}"
    )
    if ml and ml["sklearn"] != info["sklearn"]:
        versions += f" (MLflow's venv: scikit-learn {ml['sklearn']})"
    pythons = {info["python"]} | ({ml["python"]} if ml else set())
    lines = [HEADING, ""]
    if args.quick:
        lines += [
            "> **Quick smoke run (`--quick`): a small 'large' model and few repeats, to check "
            "that the benchmark works end to end. Not publishable.**",
            "",
        ]
    lines += [
        _wrap(intro, bullet=False),
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {info[k]} |" for k in ("date", "cpu", "cores", "ram", "os", "disk", "load")),
        f"| python | {', '.join(sorted(pythons))} (each system in its own venv) |",
        f"| versions | {versions} |",
        "",
        "Log and register (in a warm process):",
        "",
        log_table(mw, ml),
        "",
        "Load (fresh processes):",
        "",
        load_table(loads),
        "",
        _wrap(
            "Targets of the issue: at least as fast as MLflow on each (log and register; load), "
            f"and {TARGET_LOAD:g}× faster on load; held against the in-process import + load + "
            "predict time of a cold load. Every cold load's predictions equalled the fitted "
            "model's, in every process; every repeat registered the next version.",
            bullet=False,
        ),
        "",
        *[_wrap(t) for t in targets(mw, ml, loads)],
        "",
        "How each figure is taken:",
        "",
        *[_wrap(note) for note in notes(args, rows, mw, ml)],
    ]
    return "\n".join(lines) + "\n"


def notes(
    args: argparse.Namespace, rows: int, mw: dict[str, Any], ml: dict[str, Any] | None
) -> list[str]:
    mw_files = ", ".join(mw["models"]["knn"]["files"])
    ml_files = ", ".join(ml["models"]["knn"]["files"]) if ml else "-"
    ml_format = "not run"
    if ml:
        formats = sorted({ml["models"][k]["format"] for k in MODELS})
        chosen = (
            f"`serialization_format='{args.mlflow_format}'` was passed"
            if args.mlflow_format
            else "MLflow's default was used"
        )
        ml_format = (
            f"its sklearn flavor saved with **{', '.join(formats)}** ({chosen}; MLflow "
            f"{ml['version']} defaults to skops outside Databricks and to cloudpickle on it, "
            "and loads every format, skops included, only while "
            "`MLFLOW_ALLOW_PICKLE_DESERIALIZATION` is true, its default, since the skops "
            "allow-list comes from the model's own MLmodel file)"
        )
    return [
        f"*Models*: `pipeline` is StandardScaler + LogisticRegression fitted on {SMALL_ROWS} "
        f"rows × {COLUMNS} float columns; `knn` is `KNeighborsClassifier(algorithm='brute')` "
        f"fitted on {rows:,} rows × {COLUMNS} float64 columns ({args.big_mb:g} MB, kept by "
        "the model as one array). Synthetic data from NumPy's seeded generator; each side fits "
        "its own copy with the same code and seed, and MLflow's side checks that its models "
        f"predict what modelwright's do. Each cold load predicts {BATCH_ROWS} rows.",
        "*Serialisation*: modelwright's sklearn flavor saves with **skops** (no pickle) and "
        "records a sha256 per file, checked on every load, and the scikit-learn estimator "
        "classes in the file. Loading runs skops's audit of every type in the file against "
        "its defaults, with those recorded classes (each checked again to be a public "
        "scikit-learn estimator) standing in for the scan of all of scikit-learn that a plain "
        "`import skops.io` runs; types the manifest does not declare are refused. "
        f"MLflow: {ml_format}. Files of the `knn` model: modelwright "
        f"{mw_files}; MLflow {ml_files}.",
        "*modelwright log*: `with client.start_run('bench') as run: run.log_model(model, "
        "input_example=df.head(5), registered_model_name=name)` on `modelwright.connect(home)` "
        "(embedded, SQLite, local artifact store) in the benchmark's process after an untimed "
        "warm-up model. `log_model` predicts on the example to infer the signature, pins "
        "requirements from the run's package snapshot, saves, hashes, stores and registers. "
        "*whole run* adds `start_run` (which takes the package snapshot) and ending the run. "
        "`log_model` takes the registry name as `registered_model_name` or `name` (the two "
        "must agree), so no separate artifact name is passed.",
        "*MLflow log*: `with mlflow.start_run(): mlflow.sklearn.log_model(model, name='model', "
        "input_example=df.head(5), registered_model_name=name)` with a `sqlite:///` tracking "
        "and registry store and a `file://` artifact location, in one process of MLflow's venv "
        "after an untimed warm-up model. With MLflow's defaults this also infers pip "
        "requirements (in a subprocess that loads the model) and checks the serving input "
        "example.",
        "*Loads*: each in a new process of the system's venv (`python -c ...`). *In process* "
        "times `import modelwright` / `import mlflow`, the client or tracking URI, "
        "`load_model('models:/<name>/1')` and `predict` on a DataFrame of the batch; *of which "
        "import + connect* is `import modelwright` and `modelwright.connect(home)` (which "
        "imports the client and opens the embedded platform; remote, `connect(url, "
        "token=...)`, which imports the client and httpx and sends nothing) against `import "
        "mlflow, "
        "mlflow.pyfunc` and `mlflow.set_tracking_uri(...)` (MLflow opens its store inside "
        "`load_model`), before either imports scikit-learn and skops, which both do while "
        "loading; *process wall* adds interpreter "
        "start-up and exit. modelwright's *cold* load first empties "
        "its download cache (`<home>/cache/models`), so it copies the files from the artifact "
        "store and verifies every sha256 on the way (and not again); *cached* finds them "
        "there and verifies them again, once. *Remote* loads connect to a `modelwright "
        "server --no-worker` (one uvicorn worker, started by the benchmark on a loopback port, "
        "over the same home) with a token, and download through its object routes into a "
        "download cache of their own (`MODELWRIGHT_CACHE_DIR`), emptied before each remote "
        "cold load. "
        "MLflow reads a local artifact store in place (no copy, no check). The page cache is "
        "warm for both. Rows are interleaved (modelwright cold, cached, remote cold, remote "
        "cached, MLflow; again).",
        "*Bytecode*: MLflow's venv was byte-compiled by pip at install; modelwright runs from "
        "its checkout, so the benchmark byte-compiles its package (`compileall`) before the "
        "loads, as a wheel install would (otherwise every cold load compiles it again where "
        "`PYTHONDONTWRITEBYTECODE` is set).",
        "*CPU, in process* is the process's CPU time (`time.process_time()`) over the same "
        "span as *in process*: on a shared machine it moves less with other work than wall "
        "time does. The targets are still judged on the in-process wall time.",
        "The load average is shown because the machine may be shared: other work slows every "
        "figure, and the spread of the repeats shows how much.",
    ]


# -- main -------------------------------------------------------------------------------------
def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run, not publishable")
    parser.add_argument("--repeats", type=int, default=None, help="log repeats (median)")
    parser.add_argument("--load-repeats", type=int, default=None, help="cold loads per row")
    parser.add_argument("--big-mb", type=float, default=None, help="size of the large model")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument(
        "--mlflow-format",
        default="",
        choices=["", "skops", "cloudpickle", "pickle"],
        help="MLflow's serialization_format (default: MLflow's own default)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    args.repeats = args.repeats or (2 if args.quick else 3)
    args.load_repeats = args.load_repeats or (2 if args.quick else 5)
    args.big_mb = args.big_mb or (5.0 if args.quick else 50.0)
    return args


def main() -> int:
    args = _parse()
    for name in [k for k in os.environ if k.startswith("MODELWRIGHT_")]:
        del os.environ[name]
    import bench_report

    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", file=sys.stderr, flush=True)

    mlflow_python = None if args.skip_mlflow else _peers.mlflow_venv(log)
    scratch = SCRATCH / f"registry-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True)
    load_before = bench_report.load_average()
    started = time.monotonic()  # the one-off install of MLflow's venv is not counted
    home = scratch / "modelwright"
    server: subprocess.Popen[bytes] | None = None
    try:
        log(f"fitting the models ({args.big_mb:g} MB for knn)")
        models = {kind: build(kind, args.big_mb) for kind in MODELS}
        cases: dict[str, Any] = {}
        for kind, (model, _) in models.items():
            columns, rows = batch(kind)
            cases[kind] = {
                "columns": columns,
                "rows": rows,
                "expected": predictions(model, columns, rows),
            }
        cases_file = scratch / "cases.json"
        cases_file.write_text(json.dumps(cases))
        mw = modelwright_log(home, models, args.repeats, log)
        del models
        ml = None
        if mlflow_python is not None:
            log("MLflow: its venv, a SQLite store, a warm-up model (untimed)")
            ml = mlflow_side(
                mlflow_python,
                scratch / "mlflow",
                cases_file,
                args.repeats,
                args.big_mb,
                args.mlflow_format,
                log,
            )
            for kind in MODELS:
                if ml["models"][kind]["versions"] != list(range(1, args.repeats + 1)):
                    raise AssertionError(f"MLflow registered {ml['models'][kind]['versions']}")

        # The peer's site-packages were byte-compiled by pip; a wheel install of modelwright
        # would be too. A checkout is not (and PYTHONDONTWRITEBYTECODE may keep it so), so
        # compile it once here rather than in every cold load.
        import compileall

        import modelwright

        compileall.compile_dir(Path(modelwright.__file__).parent, quiet=1)

        url, server = start_server(home, scratch, log)
        loads: list[Load] = []
        systems = [("floor", "floor"), ("modelwright", "cold"), ("modelwright", "cached")]
        systems += [("modelwright", "remote"), ("modelwright", "remote-cached")]
        if mlflow_python is not None:
            systems.append(("MLflow", "mlflow"))
        for kind in MODELS:
            loads += [Load(system, kind, variant) for system, variant in systems]
        env = peer_env()
        for r in range(1, args.load_repeats + 1):
            for kind in MODELS:
                log(f"cold loads of {kind}, repeat {r}/{args.load_repeats}")
                case = scratch / f"load-{kind}.json"
                for row in (x for x in loads if x.model == kind):
                    spec = {**cases[kind], "uri": f"models:/{kind}/1"}
                    if row.system == "floor":
                        case.write_text(json.dumps({"modules": MODEL_MODULES[kind]}))
                        got = cold_load(Path(sys.executable), FLOOR, case, env)
                        got["pred"] = cases[kind]["expected"]  # nothing to predict
                    elif row.system == "modelwright":
                        remote = row.variant.startswith("remote")
                        cache = scratch / "remote-cache" if remote else home / "cache"
                        downloads = cache / "models"
                        if row.variant in ("cold", "remote"):
                            shutil.rmtree(downloads, ignore_errors=True)
                        elif not any(downloads.glob("*/modelwright.json")):
                            raise AssertionError(f"no model in modelwright's cache {downloads}")
                        spec["target"] = url if remote else str(home)
                        spec["token"] = mw["token"] if remote else None
                        case.write_text(json.dumps(spec))
                        load_env = {**env, "MODELWRIGHT_CACHE_DIR": str(cache)} if remote else env
                        got = cold_load(Path(sys.executable), MODELWRIGHT_LOAD, case, load_env)
                    else:
                        assert mlflow_python is not None
                        spec["tracking"] = tracking_uri(scratch / "mlflow")
                        case.write_text(json.dumps(spec))
                        got = cold_load(mlflow_python, MLFLOW_LOAD, case, env)
                    if got["pred"] != cases[kind]["expected"]:
                        raise AssertionError(f"{row.system} {kind}: loaded model predicts wrong")
                    row.total.append(got["total"])
                    row.load.append(got["load"])
                    row.imports.append(got["import"])
                    row.wall.append(got["wall"])
                    row.cpu.append(got["cpu"])
                    if "cpu_parts" in got:
                        row.cpu_parts.append(got["cpu_parts"])
        info = bench_report.machine(scratch, load_before)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    from importlib.metadata import version

    info |= {"sklearn": version("scikit-learn"), "skops": version("skops")}
    info["numpy"] = version("numpy")
    elapsed = time.monotonic() - started
    text = document(args, info, mw, ml, loads, elapsed)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "mlflow-log":
        mlflow_log(sys.argv[2:])
    else:
        sys.exit(main())
