"""Write tests/monitoring/goldens/*.json: what Evidently's DataDriftPreset says of seeded frames.

    bench/.venvs/evidently/bin/python bench/make_drift_goldens.py

Runs in Evidently's own venv (``python bench/_venvs.py evidently`` makes it from
bench/requirements-evidently.txt; Evidently 0.7.23 does not import under pandas 3, the main
venv's). The frames come from tests/monitoring/frames.py (numpy and pandas only), which the
conformance test (tests/monitoring/test_evidently_goldens.py) builds again in the main venv.
For each case: the default preset over every column, then one preset per method over the
columns it accepts.
"""

from __future__ import annotations

import json
import sys
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.monitoring.frames import CASES, METHOD_COLUMNS, fingerprint, make_case  # noqa: E402

OUT = ROOT / "tests" / "monitoring" / "goldens"


def preset_result(reference: Any, current: Any, **options: Any) -> dict[str, Any]:
    """Per column: Evidently's method label, score, threshold, decision; and the dataset's."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        snapshot = Report([DataDriftPreset(**options)], include_tests=True).run(current, reference)
    return parse_snapshot(snapshot.dict())


def parse_snapshot(body: dict[str, Any]) -> dict[str, Any]:
    """The per-column and dataset results in a DataDriftPreset snapshot's ``dict()``."""
    columns: dict[str, dict[str, Any]] = {}
    dataset: dict[str, Any] = {}
    for metric in body["metrics"]:
        config = metric["config"]
        if config["type"].endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": config["method"],
                "score": float(metric["value"]),
                "threshold": config["threshold"],
            }
        elif config["type"].endswith("DriftedColumnsCount"):
            dataset = {"count": int(metric["value"]["count"]), "share": metric["value"]["share"]}
    for test in body["tests"]:
        params = test["metric_config"]["params"]
        if params["type"].endswith("ValueDrift"):
            columns[params["column"]]["drifted"] = test["status"] == "FAIL"
        elif params["type"].endswith("DriftedColumnsCount"):
            dataset["dataset_drift"] = test["status"] == "FAIL"
    return {"columns": columns, **dataset}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (seed, n_ref, n_cur) in CASES.items():
        reference, current = make_case(name)
        golden = {
            "evidently": version("evidently"),
            "case": name,
            "seed": seed,
            "reference_rows": n_ref,
            "current_rows": n_cur,
            "fingerprint": [fingerprint(reference), fingerprint(current)],
            "preset": preset_result(reference, current),
            "methods": {
                method: preset_result(reference, current, columns=columns, method=method)
                for method, columns in METHOD_COLUMNS.items()
            },
        }
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
