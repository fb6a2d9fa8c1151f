"""Drift detection: modelwright.monitoring.drift against Evidently's DataDriftPreset.

    .venv/bin/python bench/bench_drift.py [--rows 100000,1000000] [--repeats 3]

For each row count N: a reference of 1,000 rows (Evidently's p-value tests) and one of N rows
(its distances), against a current of N rows; 25 mixed columns (bench/drift_data.py, written
once as Parquet under bench/.data/drift). Each run is a fresh process
(bench/_drift_child.py): Evidently 0.7.23 in its own venv (bench/requirements-evidently.txt),
modelwright given the loaded frames, and modelwright given the Parquet paths (read a column
at a time). Reported: the median of the drift computation's wall time (loading excluded), the
median peak RSS of the process, and whether every column got the same test and decision, with
the largest relative difference of the scores. Prints a table; leaves the Markdown section in
bench/.data/drift.md for docs/benchmarks.md. On demand, never in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import _venvs  # noqa: E402
import drift_data  # noqa: E402
from bench_report import load_average  # noqa: E402

TOOLS = ("evidently", "modelwright", "modelwright-stream")


def run_child(python: Path, tool: str, ref: Path, cur: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [str(python), str(BENCH / "_drift_child.py"), tool, str(ref), str(cur)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{tool} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(peer: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """Same columns, same test, same decision per column and for the dataset; score gap."""
    want, got = peer["columns"], ours["columns"]
    same_tests = sorted(want) == sorted(got) and all(
        want[c]["method"] == got[c]["method"] for c in want
    )
    same_decisions = same_tests and all(want[c]["drifted"] == got[c]["drifted"] for c in want)
    worst = 0.0
    for column in set(want) & set(got):
        a, b = want[column]["score"], got[column]["score"]
        if a != b:
            worst = max(worst, math.inf if a == 0 else abs(a - b) / abs(a))
    return {
        "same_tests": same_tests,
        "same_decisions": same_decisions and peer["dataset_drift"] == ours["dataset_drift"],
        "max_rel_diff": worst,
        "columns": len(want),
        "drifted": peer["count"],
    }


def bench_config(
    pythons: dict[str, Path],
    label: str,
    ref: Path,
    cur: Path,
    repeats: int,
    peer_repeats: int,
    log: Any,
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {tool: [] for tool in TOOLS}
    for i in range(repeats):
        for tool in TOOLS:  # interleaved, so drifting machine load hits all three alike
            if tool == "evidently" and i >= peer_repeats:
                continue
            t0 = time.perf_counter()
            runs[tool].append(run_child(pythons[tool], tool, ref, cur))
            log(f"  {label} #{i + 1} {tool}: {runs[tool][-1]['compute_s']:.2f} s compute, "
                f"{runs[tool][-1]['peak_rss_mb']:.0f} MB peak ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    out: dict[str, Any] = {"config": label}
    for tool in TOOLS:
        out[tool] = {
            "compute_s": statistics.median(r["compute_s"] for r in runs[tool]),
            "all_s": [r["compute_s"] for r in runs[tool]],
            "peak_mb": statistics.median(r["peak_rss_mb"] for r in runs[tool]),
            # What the computation allocated beyond the frames it was given (0 loaded for paths).
            "added_mb": statistics.median(
                r["compute_peak_mb"] - r["loaded_mb"] for r in runs[tool]
            ),
            "runs": len(runs[tool]),
        }
    checks = [compare(runs["evidently"][0], run) for t in TOOLS[1:] for run in runs[t]]
    out["check"] = {
        "same_tests": all(c["same_tests"] for c in checks),
        "same_decisions": all(c["same_decisions"] for c in checks),
        "max_rel_diff": max(c["max_rel_diff"] for c in checks),
        "columns": checks[0]["columns"],
        "drifted": checks[0]["drifted"],
    }
    return out


def markdown(results: list[dict[str, Any]], load: str) -> str:
    lines = [
        "| configuration | Evidently | modelwright, frames | modelwright, Parquet paths | speed-up (frames / paths) | peak RSS: Evidently / frames / paths | added over the loaded frames: Evidently / modelwright | same tests and decisions | max rel. score diff |",
        "|---|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for r in results:
        ev, mw, st = r["evidently"], r["modelwright"], r["modelwright-stream"]
        c = r["check"]
        lines.append(
            f"| {r['config']} | {ev['compute_s']:.2f} s | {mw['compute_s']:.2f} s | "
            f"{st['compute_s']:.2f} s | {ev['compute_s'] / mw['compute_s']:.0f}× / "
            f"{ev['compute_s'] / st['compute_s']:.0f}× | {ev['peak_mb']:,.0f} / {mw['peak_mb']:,.0f} / "
            f"{st['peak_mb']:,.0f} MB | {ev['added_mb']:,.0f} / {mw['added_mb']:,.0f} MB | "
            f"{'yes' if c['same_tests'] and c['same_decisions'] else 'NO'} "
            f"({c['drifted']} of {c['columns']} columns drift) | {c['max_rel_diff']:.1e} |"
        )
    runs = sorted({(r["evidently"]["runs"], r["modelwright"]["runs"]) for r in results})
    counts = "; ".join(f"Evidently {e}, modelwright {m}" for e, m in runs)
    lines += [
        "",
        f"Medians of runs per configuration ({counts}), each run a fresh process. Times: the "
        "drift computation, Parquet loading excluded (with paths, modelwright's reading is "
        "included). Peak RSS: the whole process, loading included. Added: the computation's "
        f"peak minus the RSS with the frames loaded. Load average at the end: {load}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--peer-repeats", type=int, default=None, help="Evidently runs (default: --repeats)"
    )
    args = parser.parse_args()
    pythons = {
        "evidently": _venvs.ensure("evidently"),
        "modelwright": Path(sys.executable),
        "modelwright-stream": Path(sys.executable),
    }
    results = []
    small_ref = drift_data.ensure(1000, 1, 0.0)
    for n in (int(x) for x in args.rows.split(",")):
        big_ref, cur = drift_data.ensure(n, 1, 0.0), drift_data.ensure(n, 2, 0.3)
        for label, ref in (
            (f"ref 1,000 × cur {n:,}", small_ref),
            (f"ref {n:,} × cur {n:,}", big_ref),
        ):
            peer = args.repeats if args.peer_repeats is None else args.peer_repeats
            results.append(bench_config(pythons, label, ref, cur, args.repeats, peer, print))
            # Written after each configuration: a long run interrupted keeps what it measured.
            (BENCH / ".data" / "drift.json").write_text(json.dumps(results, indent=1))
    text = markdown(results, load_average())
    print()
    print(text)
    out = BENCH / ".data" / "drift.md"
    out.write_text(text + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
