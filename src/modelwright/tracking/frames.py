"""Runs as a pandas DataFrame with MLflow's ``search_runs`` columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelwright.tracking.models import RunInfo

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RUN_COLUMNS", "runs_frame"]

RUN_COLUMNS = [
    "run_id",
    "run_name",
    "experiment_id",
    "experiment_name",
    "workspace",
    "environment",
    "status",
    "start_time",
    "end_time",
    "parent_run_id",
]


def runs_frame(runs: list[RunInfo]) -> pd.DataFrame:
    """One row per run: ``RUN_COLUMNS``, then ``metrics.<k>``, ``params.<k>``, ``tags.<k>``."""
    import pandas as pd

    rows = []
    for r in runs:
        row: dict[str, Any] = {
            "run_id": r.id,
            "run_name": r.name,
            # Experiments are named, not numbered: the name serves as MLflow's id.
            "experiment_id": r.experiment,
            "experiment_name": r.experiment,
            "workspace": r.workspace,
            "environment": r.environment,
            "status": r.status,
            "start_time": r.started_at,
            "end_time": r.ended_at,
            "parent_run_id": r.parent_id,
        }
        row |= {f"metrics.{k}": v for k, v in r.metrics.items()}
        row |= {f"params.{k}": v for k, v in r.params.items()}
        row |= {f"tags.{k}": v for k, v in r.tags.items()}
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else RUN_COLUMNS)
    for column in ("start_time", "end_time"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    # metrics.* < params.* < tags.*: sorting groups them as MLflow's columns are.
    dynamic = sorted(c for c in frame.columns if c not in RUN_COLUMNS)
    return frame[RUN_COLUMNS + dynamic]
