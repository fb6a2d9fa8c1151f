"""Web UI: modelwright's pages against MLflow's UI, in the same Chromium, over the same data.

    .venv/bin/python bench/bench_ui.py [--repeats 5] [--timeout 60] [--skip-mlflow]
        [--runs 10000] [--steps 1000000] [--reload] [--no-write]

Run on demand, never in CI. Both tools get the same data (``_ui_data.py``): an experiment of
10,000 runs × 20 params × 20 metrics, a run with a metric of 1,000,000 steps, and the first
100 runs of the experiment to compare. Each is loaded once by the tool's fastest path and kept
in ``bench/.data/ui`` (git-ignored), so that a rerun skips loading (``--reload`` loads again):

* modelwright: it has no bulk import of runs, and its services take one run at a time
  (hours for 10,000 on a busy two-core machine), so the first run goes through the embedded
  client and the others are copies of its rows with their own ids, names and values, written
  with SQLAlchemy Core into the same tables; the long series through the client, in
  ``log_batch`` calls of 10,000 points; then ``modelwright server`` over that home on a free
  loopback port;
* MLflow (pinned in ``bench/requirements-mlflow.txt``, its own venv ``bench/.venvs/mlflow``):
  ``MlflowClient`` over its SQLite database, in-process (MLflow's SQLAlchemy store, no
  server: one ``create_run``, one ``log_batch`` and one ``set_terminated`` per run; the long
  series in ``log_batch`` calls of 1,000 points, its limit); then ``mlflow server`` over that
  database with its defaults on a free loopback port.

Debian's Chromium (``/usr/bin/chromium``, headless, a 1400 × 900 viewport), driven by
Playwright's sync API, opens each page after ``about:blank`` in a signed-in context whose HTTP
cache is warm (one untimed load of each page first), and waits until the page shows what was
asked for; the time is ``performance.now()`` at that moment, from the navigation's start:

a) the runs table of the experiment sorted by ``m00``, descending, its first row the run with
   the highest ``m00``;
b) the chart of the 1,000,000-step metric drawn (modelwright: the run page's uPlot chart has
   its points; MLflow: the run's *Model metrics* tab has its plotly line);
c) the comparison of 100 runs: the last of them named in the page's table and its first
   chart drawn.

Repeats are interleaved (modelwright, MLflow, again); figures are medians. A page that does
not get there within ``--timeout`` seconds is reported as timed out, not given a number.
Writes ``bench/.data/ui.md`` and replaces the "## Web UI" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

import _peers
import bench_report
import bench_tracking
from _ui_data import (
    EXPERIMENT,
    LONG_EXPERIMENT,
    LONG_KEY,
    LONG_RUN,
    SORT_KEY,
    Spec,
    compared,
    long_value,
    run_name,
    run_values,
    top_run,
)
from bench_report import wrap

import modelwright

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data" / "ui"  # git-ignored; the loaded homes are kept here
REPORT = ROOT / "bench" / ".data" / "ui.md"
DOC = ROOT / "docs" / "benchmarks.md"
HEADING = "## Web UI: pages at scale against MLflow's UI"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}
TARGET_SECONDS = 1.0
TARGET_RATIO = 10.0

PAGES = {
    "table": "runs table of 10,000 runs, sorted by a metric",
    "chart": "chart of a 1,000,000-step metric",
    "compare": "comparison of 100 runs",
}


@dataclass
class Side:
    """One tool: where its pages are and what each page must show when it is ready."""

    name: str
    urls: dict[str, str]  # page -> URL
    ready: dict[str, str]  # page -> a JavaScript predicate over ``arg``
    arg: dict[str, Any]
    seconds: dict[str, list[float | None]] = field(default_factory=dict)  # None: timed out
    first: dict[str, float | None] = field(default_factory=dict)  # the untimed-for-median load


# -- loading ----------------------------------------------------------------------------------
def _loaded(where: Path, spec: Spec) -> dict[str, Any] | None:
    marker = where / "loaded.json"
    if not marker.exists():
        return None
    done: dict[str, Any] = json.loads(marker.read_text())
    return done if done.get("spec") == json.loads(spec.to_json()) else None


def load_modelwright(data: Path, spec: Spec, reload: bool, log: Any) -> dict[str, Any]:
    """modelwright has no bulk import of runs, and its services take a run at a time (its
    start, batch and end took 0.2 to 2 s a run on this busy machine: hours for 10,000): the
    first run goes through the embedded client, and the others are copies of its rows,
    written into the same tables with SQLAlchemy Core in one transaction (with their own
    ids, names and values). The long series goes through the client, 10,000 points a
    ``log_batch``."""
    where = data / "modelwright"
    done = None if reload else _loaded(where, spec)
    if done:
        return done
    shutil.rmtree(where, ignore_errors=True)
    log(f"loading modelwright: {spec.runs:,} runs, then {spec.steps:,} steps (once)")
    started = time.perf_counter()
    home = where / "home"
    ts = int(time.time() * 1000)
    with modelwright.connect(home) as client:
        client.resolve_workspace()
        params, metrics = run_values(spec, 0)
        first = client.start_run(EXPERIMENT, name=run_name(0), snapshot=False)
        client.log_batch(
            first.id, metrics=[(k, v, 0, ts) for k, v in metrics.items()], params=params
        )
        first.end()
        ids = {run_name(0): first.id, **_copy_runs(home / "modelwright.db", first.id, spec, ts)}
        wide_seconds = time.perf_counter() - started
        started = time.perf_counter()
        long = client.start_run(LONG_EXPERIMENT, name=LONG_RUN, snapshot=False)
        for first_step in range(0, spec.steps, 10_000):
            last = min(first_step + 10_000, spec.steps)
            points = [(LONG_KEY, long_value(s), s, ts) for s in range(first_step, last)]
            client.log_batch(long.id, metrics=points)
        long.end()
    done = {
        "spec": json.loads(spec.to_json()),
        "long_run_id": long.id,
        "run_ids": ids,
        "wide_seconds": wide_seconds,
        "long_seconds": time.perf_counter() - started,
    }
    (where / "loaded.json").write_text(json.dumps(done))
    return done


def _copy_runs(db: Path, template: str, spec: Spec, ts: int) -> dict[str, str]:
    """Runs 1.. of ``spec`` as copies of the run ``template``'s row, with their values."""
    from sqlalchemy import create_engine, insert, select

    from modelwright.store import schema

    runs, params_t, metrics_t, latest_t = (
        schema.Run.__table__,
        schema.RunParam.__table__,
        schema.RunMetric.__table__,
        schema.LatestMetric.__table__,
    )
    engine = create_engine(f"sqlite:///{db}")
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        row = dict(conn.execute(select(runs).where(runs.c.id == template)).mappings().one())
        for first in range(1, spec.runs, 1_000):
            new_runs, params, metrics = [], [], []
            for i in range(first, min(first + 1_000, spec.runs)):
                run_id = uuid.uuid4().hex
                ids[run_name(i)] = run_id
                moment = row["started_at"] + timedelta(milliseconds=i)
                new_runs.append(
                    row
                    | {"id": run_id, "name": run_name(i), "started_at": moment}
                    | {"ended_at": moment, "heartbeat_at": moment}
                )
                p, m = run_values(spec, i)
                params += [{"run_id": run_id, "key": k, "value": v} for k, v in p.items()]
                metrics += [
                    {"run_id": run_id, "key": k, "value": v, "is_nan": False, "step": 0}
                    | {"timestamp": ts}
                    for k, v in m.items()
                ]
            conn.execute(insert(runs), new_runs)
            conn.execute(insert(params_t), params)
            conn.execute(insert(metrics_t), metrics)
            conn.execute(insert(latest_t), metrics)
    engine.dispose()
    return ids


def load_mlflow(python: Path, data: Path, spec: Spec, reload: bool, log: Any) -> dict[str, Any]:
    where = data / "mlflow"
    done = None if reload else _loaded(where, spec)
    if done:
        return done
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    log(f"loading MLflow: {spec.runs:,} runs, then {spec.steps:,} steps (once, minutes)")
    cmd = [str(python), str(ROOT / "bench" / "_ui_data.py"), "--db", str(where / "mlflow.db")]
    cmd += ["--artifacts", str(where / "mlartifacts"), "--spec", spec.to_json()]
    ran = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **_peers.QUIET_ENV}, check=False
    )
    if ran.returncode != 0:
        raise RuntimeError(f"loading MLflow failed ({ran.returncode}):\n{ran.stderr[-4000:]}")
    done = {"spec": json.loads(spec.to_json()), **json.loads(ran.stdout.strip().splitlines()[-1])}
    (where / "loaded.json").write_text(json.dumps(done))
    return done


# -- the two sides ----------------------------------------------------------------------------
# Each predicate answers performance.now() once the page shows what was asked, else false.
_FIRST_ROW_MW = """(a) => {
  const row = document.querySelector('#runs-table tbody tr');
  return !!row && row.innerText.includes(a.top) && performance.now();
}"""
_CHART_MW = """(a) => {
  const el = document.querySelector('.chart[data-label="' + a.key + '"]');
  return !!el && !!el.dataset.points && !!el.querySelector('canvas') && performance.now();
}"""
_COMPARE_MW = """(a) => {
  const head = document.querySelector('#diff-table thead');
  const chart = document.querySelector('.chart[data-multi]');
  return !!head && head.innerText.includes(a.last) && !!chart && !!chart.dataset.count
    && performance.now();
}"""
# MLflow's runs table is an ag-grid: its pinned and scrolled parts are rows of one row-index.
_FIRST_ROW_ML = """(a) => {
  const rows = [...document.querySelectorAll('[row-index="0"]')];
  return rows.some((r) => r.innerText.includes(a.top)) && performance.now();
}"""
_CHART_ML = """(a) => {
  const line = document.querySelector('.js-plotly-plot path.js-line');
  return !!line && (line.getAttribute('d') || '').length > 10 && performance.now();
}"""
_COMPARE_ML = """(a) => {
  const cells = [...document.querySelectorAll('table td, table th')];
  return cells.some((c) => c.innerText.trim() === a.last)
    && !!document.querySelector('.js-plotly-plot .main-svg') && performance.now();
}"""


def modelwright_side(url: str, loaded: dict[str, Any], spec: Spec) -> Side:
    top, _ = top_run(spec)
    ids = [loaded["run_ids"][n] for n in compared(spec)]
    order = quote(f"metrics.{SORT_KEY} DESC")
    return Side(
        "modelwright",
        urls={
            "table": f"{url}/w/default/runs?experiment={EXPERIMENT}&order={order}",
            "chart": f"{url}/runs/{loaded['long_run_id']}",
            "compare": f"{url}/w/default/compare?" + "&".join(f"run={i}" for i in ids),
        },
        ready={"table": _FIRST_ROW_MW, "chart": _CHART_MW, "compare": _COMPARE_MW},
        arg={"top": top, "key": LONG_KEY, "last": compared(spec)[-1]},
    )


def mlflow_side(url: str, loaded: dict[str, Any], spec: Spec) -> Side:
    top, _ = top_run(spec)
    ids = [loaded["run_ids"][n] for n in compared(spec)]
    wide, long = loaded["experiment_id"], loaded["long_experiment_id"]
    order = quote(f"metrics.`{SORT_KEY}`")
    runs = quote(json.dumps(ids, separators=(",", ":")))
    return Side(
        "MLflow",
        urls={
            "table": f"{url}/#/experiments/{wide}/runs?orderByKey={order}&orderByAsc=false",
            "chart": f"{url}/#/experiments/{long}/runs/{loaded['long_run_id']}/model-metrics",
            "compare": f"{url}/#/compare-runs?runs={runs}&experiments={quote(json.dumps([wide]))}",
        },
        ready={"table": _FIRST_ROW_ML, "chart": _CHART_ML, "compare": _COMPARE_ML},
        arg={"top": top, "last": compared(spec)[-1]},
    )


def measure(page: Any, side: Side, which: str, timeout: float) -> float | None:
    """Seconds from the start of the navigation until the page is ready; None past ``timeout``."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto("about:blank")
    started = time.monotonic()
    page.goto(side.urls[which], wait_until="commit", timeout=timeout * 1000)
    left = max(1.0, timeout - (time.monotonic() - started))
    try:
        handle = page.wait_for_function(
            side.ready[which], arg=side.arg, polling="raf", timeout=left * 1000
        )
    except PlaywrightTimeout:
        return None
    return float(handle.json_value()) / 1000


@contextmanager
def browser_pages(count: int) -> Iterator[list[Any]]:
    """``count`` pages of one headless Chromium, each in a context of its own (its own
    cookies and HTTP cache)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(count)]  # type: ignore[arg-type]
            yield [c.new_page() for c in contexts]
        finally:
            browser.close()


# -- report -----------------------------------------------------------------------------------
def _fmt(seconds: float | None, timeout: float) -> str:
    if seconds is None:
        return f"> {timeout:.0f} s (timed out)"
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


def _median(values: list[float | None]) -> float | None:
    """The median, a timed-out repeat counting as longer than any; None if that is one."""
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    middle = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
    if any(v is None for v in middle):
        return None
    return statistics.mean(v for v in middle if v is not None)


def rows(sides: list[Side], timeout: float) -> list[tuple[str, ...]]:
    out = []
    mw = sides[0]
    ml = sides[1] if len(sides) > 1 else None
    for which, what in PAGES.items():
        mine = _median(mw.seconds[which])
        theirs = _median(ml.seconds[which]) if ml else None
        if ml is None:
            ratio = "-"
        elif mine is None:
            ratio = "?"
        elif theirs is None:
            ratio = f"> {timeout / mine:,.0f}×"
        else:
            ratio = f"{theirs / mine:,.1f}×"
        out.append(
            (
                what,
                _fmt(mine, timeout),
                _fmt(theirs, timeout) if ml else "not run",
                ratio,
                " / ".join(_fmt(v, timeout) for v in mw.seconds[which]),
                " / ".join(_fmt(v, timeout) for v in ml.seconds[which]) if ml else "",
                _fmt(mw.first[which], timeout)
                + (f" / {_fmt(ml.first[which], timeout)}" if ml else ""),
            )
        )
    return out


COLUMNS = (
    "page",
    "modelwright",
    "MLflow",
    "MLflow ÷ modelwright",
    "modelwright, each repeat",
    "MLflow, each repeat",
    "first load (modelwright / MLflow)",
)


def verdicts(sides: list[Side], timeout: float) -> list[str]:
    lines = []
    mw = sides[0]
    ml = sides[1] if len(sides) > 1 else None
    for which, what in PAGES.items():
        mine = _median(mw.seconds[which])
        if mine is None:
            lines.append(f"{what}: modelwright timed out: **missed**.")
            continue
        fast = "met" if mine < TARGET_SECONDS else "**missed**"
        line = f"{what}: {_fmt(mine, timeout)}, under {TARGET_SECONDS:g} s {fast}"
        if ml is not None:
            theirs = _median(ml.seconds[which])
            ratio = (timeout if theirs is None else theirs) / mine
            got = "met" if ratio >= TARGET_RATIO else "**missed**"
            more = "more than " if theirs is None else ""
            line += f"; {more}{ratio:,.1f}× faster than MLflow, ≥ {TARGET_RATIO:g}× {got}"
        first = mw.first.get(which)
        if first is None or first >= TARGET_SECONDS:
            line += f". Its first load took {_fmt(first, timeout)}, over {TARGET_SECONDS:g} s" + (
                " (it read the million points; the repeats got them kept)"
                if which == "chart"
                else ""
            )
        lines.append(line + ".")
    return lines


def document(
    sides: list[Side],
    spec: Spec,
    args: argparse.Namespace,
    info: dict[str, str],
    loads: dict[str, dict[str, Any]],
    loadavg: list[float],
) -> str:
    mlflow_version = _peers.mlflow_pin() if len(sides) > 1 else f"{_peers.mlflow_pin()} (not run)"
    table = [
        "| " + " | ".join(COLUMNS) + " |",
        "|---|--:|--:|--:|---|---|---|",
        *("| " + " | ".join(r) + " |" for r in rows(sides, args.timeout)),
    ]
    loaded = [
        f"{name}: {spec.runs:,} runs in {d['wide_seconds']:,.0f} s, {spec.steps:,} steps in "
        f"{d['long_seconds']:,.0f} s"
        for name, d in loads.items()
    ]
    busy = statistics.median(loadavg) > len(os.sched_getaffinity(0)) + 1
    intro = (
        f"Three pages of each tool over the same data: an experiment of {spec.runs:,} runs × "
        f"{spec.params} params × {spec.metrics} metrics, a run with a metric of {spec.steps:,} "
        f"steps, and {spec.compare} runs compared. Measured by `.venv/bin/python "
        "bench/bench_ui.py` (on demand, never in CI) in Debian's Chromium driven by "
        f"Playwright, headless, {VIEWPORT['width']} × {VIEWPORT['height']}. Each figure is the "
        f"median of {args.repeats} repeats, interleaved between the tools, from the start of "
        "the navigation until the page shows what was asked for. Lower is better."
    )
    if busy:
        intro += (
            " **Other work shared the machine during the run** (a median 1-minute load "
            f"average of {statistics.median(loadavg):.1f} on {len(os.sched_getaffinity(0))} "
            "cores): absolute figures "
            "are slower than on an idle machine and vary more; rerun with `python "
            "bench/bench_ui.py` on a quiet machine for cleaner ones."
        )
    notes = [
        "*Loading* (once, kept in `bench/.data/ui`; not part of any figure): modelwright has "
        "no bulk import of runs and its services take one run at a time, so its first run "
        "went through the embedded client and the others are copies of that run's rows (own "
        "ids, names and values) written with SQLAlchemy Core into its tables; the long series "
        "through the client in `log_batch` calls of 10,000 points. MLflow through "
        "`MlflowClient` over its SQLite database in-process (its "
        "SQLAlchemy store, no server: per run one `create_run`, one `log_batch`, one "
        "`set_terminated`; the long series in `log_batch` calls of 1,000 points, its limit). "
        + "; ".join(loaded)
        + ".",
        "*Servers*: `modelwright server` over that home (its defaults, SQLite) and `mlflow "
        "server --backend-store-uri sqlite:///... --artifacts-destination ...` (its defaults), "
        "each on a free loopback port, started first and left to go idle.",
        "*Browser*: one context per tool, signed in (modelwright: its sign-in form with a "
        "token; MLflow has no sign-in by default), each page loaded once untimed so that the "
        "scripts and styles are in the HTTP cache, as for a returning user; then each timed "
        "load starts from `about:blank`, so that it is a full page load (MLflow's pages are "
        "routes of one script, after a `#`). The time is the page's `performance.now()` at "
        "the first animation frame in which the page shows what was asked.",
        f"*{PAGES['table']}*: modelwright `/w/default/runs?experiment={EXPERIMENT}&order="
        f"metrics.{SORT_KEY} DESC` (50 runs a page, the columns shown by default); MLflow "
        f"`#/experiments/ID/runs?orderByKey=metrics.`{SORT_KEY}`&orderByAsc=false` (its "
        f"default page of 100 runs). Ready when the table's first row is the run with the "
        f"highest {SORT_KEY}.",
        f"*{PAGES['chart']}*: modelwright's run page (`/runs/ID`), ready when its uPlot chart "
        f"of `{LONG_KEY}` has its points and canvas; MLflow's run page, *Model metrics* tab "
        f"(`#/experiments/ID/runs/ID/model-metrics`), ready when its plotly chart has drawn "
        "the line. Both servers downsample: modelwright to the chart's width in pixels "
        "(the smallest and largest value of each bucket, so that spikes stay), MLflow to 320 "
        "sampled steps (`get-history-bulk-interval`). The database's pass over a million "
        "points is modelwright's whole cost here: an ended run takes no more points, so its "
        "thinned series is kept in the server's memory after the first read, and the timed "
        "repeats are served from there. *First load* is the load before the repeats: for "
        "modelwright the one that read the million points, for MLflow the one with a cold "
        "HTTP cache (its scripts are several megabytes; modelwright's few were cached by its "
        "sign-in page).",
        f"*{PAGES['compare']}*: the first "
        f"{spec.compare} runs of the experiment. modelwright `/w/default/compare?run=...`, "
        "ready when the table names the last run and the overlaid metric chart is drawn; "
        "MLflow `#/compare-runs?runs=[...]&experiments=[...]`, ready when its run details "
        "table names the last run and its first plot (parallel coordinates) is drawn.",
        "*What modelwright's pages read*: the runs table asks the search for the values of "
        "its shown columns only (`search_runs(..., columns=[...])`), and its column chooser "
        "lists the keys of the experiment's newest 1,000 runs (`run_columns`); a chart asks "
        "for at most as many points as it has pixels (`metric_history(..., max_points=N)`), "
        "thinned by the database in one `GROUP BY`; the comparison reads each run's values "
        "once.",
    ]
    lines = [
        HEADING,
        "",
        wrap(intro, bullet=False),
        "",
        "| | |",
        "|---|---|",
        f"| date | {info['date']} |",
        f"| cpu | {info['cpu']} |",
        f"| cores | {info['cores']} |",
        f"| ram | {info['ram']} |",
        "| gpu | none |",
        f"| os | {info['os']} |",
        f"| python | {info['python']} |",
        f"| versions | modelwright {metadata.version('modelwright')}, mlflow {mlflow_version} "
        f"(pinned in `bench/requirements-mlflow.txt`), Chromium {info['chromium']}, "
        f"Playwright {metadata.version('playwright')}, SQLite {info['sqlite']} |",
        "| load average (1 min) as each round began | "
        + " / ".join(f"{x:.1f}" for x in loadavg)
        + " |",
        "",
        *table,
        "",
        wrap(
            f"Targets of the issue: each page under {TARGET_SECONDS:g} s and at least "
            f"{TARGET_RATIO:g}× faster than MLflow's.",
            bullet=False,
        ),
        "",
        *[wrap(line) for line in verdicts(sides, args.timeout)],
        "",
        "How each figure is taken:",
        "",
        *[wrap(note) for note in notes],
    ]
    return "\n".join(lines) + "\n"


# -- main -------------------------------------------------------------------------------------
def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats per page (median)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a page may take")
    parser.add_argument("--runs", type=int, default=Spec.runs)
    parser.add_argument("--steps", type=int, default=Spec.steps)
    parser.add_argument("--skip-mlflow", action="store_true", help="modelwright only")
    parser.add_argument("--reload", action="store_true", help="load the data again")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--output", type=Path, default=DOC)
    parser.add_argument("--data", type=Path, default=DATA, help="where the loaded data is kept")
    return parser.parse_args()


def _chromium() -> str:
    done = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"\d+(?:\.\d+)+", done.stdout)
    return found.group(0) if found else "unknown"


def main() -> int:
    args = _parse()
    for name in [k for k in os.environ if k.startswith("MODELWRIGHT_")]:
        del os.environ[name]  # the embedded client reads its settings from the environment
    spec = Spec(runs=args.runs, steps=args.steps)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f} s] {message}", flush=True)

    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    python = None if args.skip_mlflow else _peers.mlflow_venv(log)
    loads = {"modelwright": load_modelwright(data, spec, args.reload, log)}
    if python is not None:
        loads["MLflow"] = load_mlflow(python, data, spec, args.reload, log)
    info = bench_tracking.machine()
    info["chromium"] = _chromium()
    loadavg: list[float] = []
    with ExitStack() as stack:
        log("starting `modelwright server` and `mlflow server` (then waiting for them to idle)")
        url, token = stack.enter_context(
            bench_tracking.modelwright_server(data / "modelwright" / "home", data)
        )
        sides = [modelwright_side(url, loads["modelwright"], spec)]
        if python is not None:
            ml_url = stack.enter_context(_peers.mlflow_server(python, data / "mlflow"))
            sides.append(mlflow_side(ml_url, loads["MLflow"], spec))
        pages = stack.enter_context(browser_pages(len(sides)))
        _sign_in(pages[0], url, token)
        for side, page in zip(sides, pages, strict=True):
            for which in PAGES:
                side.seconds[which] = []
                side.first[which] = measure(page, side, which, args.timeout)
                log(f"{side.name}: {which}, first load: {_fmt(side.first[which], args.timeout)}")
        for repeat in range(1, args.repeats + 1):
            loadavg.append(os.getloadavg()[0])
            for side, page in zip(sides, pages, strict=True):
                for which in PAGES:
                    took = measure(page, side, which, args.timeout)
                    side.seconds[which].append(took)
                    log(f"repeat {repeat}: {side.name} {which}: {_fmt(took, args.timeout)}")
    section = document(sides, spec, args, info, loads, loadavg)
    print()
    print(section)
    REPORT.write_text(section, encoding="utf-8")
    if not args.no_write:
        bench_report.replace_section(args.output, HEADING, section)
        print(f"wrote {REPORT.relative_to(ROOT)} and the '{HEADING[3:]}' section of {args.output}")
    return 0


def _sign_in(page: Any, url: str, token: str) -> None:
    """modelwright's sign-in form, as a person fills it."""
    page.goto(f"{url}/sign-in")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


if __name__ == "__main__":
    sys.exit(main())
