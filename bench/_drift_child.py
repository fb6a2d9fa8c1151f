"""One timed drift run in a fresh process, for bench/bench_drift.py (standard library + the tool).

    python bench/_drift_child.py evidently|modelwright|modelwright-stream REF.parquet CUR.parquet

Prints one JSON line: load and compute seconds; peak RSS of the whole process (``ru_maxrss``:
the interpreter, the imports, loading the frames and the computation) and of the computation
alone (the kernel's high-water mark reset after loading, through /proc/self/clear_refs: the
frames held plus what the tool allocates); per column the method, score and decision, plus the
dataset share and decision. ``modelwright-stream`` hands the Parquet
paths to drift(), which reads one column at a time instead of loading the frames.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any


def reset_peak() -> float:
    """Reset this process's peak RSS (VmHWM) so the next reading covers what follows; returns
    the RSS now (the frames loaded, for the tools given frames)."""
    now = _status_mb("VmRSS:")
    Path("/proc/self/clear_refs").write_text("5")
    return now


def peak_mb() -> float:
    return _status_mb("VmHWM:")


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_evidently(ref_path: str, cur_path: str) -> dict[str, Any]:
    import pandas as pd
    from evidently import Report
    from evidently.presets import DataDriftPreset

    t0 = time.perf_counter()
    reference, current = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    loaded = reset_peak()
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
    t2 = time.perf_counter()
    compute_peak = peak_mb()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_drift_goldens import parse_snapshot

    parsed = parse_snapshot(snapshot.dict())
    return {
        "load_s": t1 - t0,
        "compute_s": t2 - t1,
        "loaded_mb": loaded,
        "compute_peak_mb": compute_peak,
        **parsed,
    }


def run_modelwright(ref_path: str, cur_path: str, stream: bool) -> dict[str, Any]:
    import pandas as pd

    from modelwright.monitoring import drift

    t0 = time.perf_counter()
    if stream:
        reference, current = ref_path, cur_path  # read column by column by drift()
    else:
        reference, current = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    loaded = reset_peak()
    t1 = time.perf_counter()
    result = drift(reference, current)
    t2 = time.perf_counter()
    compute_peak = peak_mb()
    columns = {
        c.column: {"method": c.method_label, "score": c.score, "drifted": c.drifted}
        for c in result
        if c.status == "ok"
    }
    return {
        "load_s": t1 - t0,
        "compute_s": t2 - t1,
        "loaded_mb": loaded,
        "compute_peak_mb": compute_peak,
        "columns": columns,
        "count": result.number_of_drifted_columns,
        "share": result.share,
        "dataset_drift": result.dataset_drift,
    }


def main() -> None:
    tool, ref_path, cur_path = sys.argv[1:4]
    if tool == "evidently":
        out = run_evidently(ref_path, cur_path)
    else:
        out = run_modelwright(ref_path, cur_path, stream=tool == "modelwright-stream")
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
