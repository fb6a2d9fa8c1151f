"""A parameter search's best candidates as child runs of the search's run."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from modelwright import _fluent
from modelwright.client._tracking import ActiveRun

__all__ = ["BEST_TAG", "is_search", "log_search"]

# Set to "true" on the child run of the search's best candidate.
BEST_TAG = "best_candidate"


def is_search(estimator: Any) -> bool:
    from sklearn.model_selection._search import BaseSearchCV

    return isinstance(estimator, BaseSearchCV) and hasattr(estimator, "cv_results_")


def _rank_key(search: Any) -> str:
    refit = search.refit
    return f"rank_test_{refit}" if isinstance(refit, str) else "rank_test_score"


def log_search(
    parent: ActiveRun,
    search: Any,
    max_runs: int | None,
    flat_params: Callable[[Any], dict[str, str]],
) -> None:
    """One child run per candidate, for the ``max_runs`` best by rank: its params and every
    numeric column of ``cv_results_`` (mean/std/split scores and times, rank)."""
    results = search.cv_results_
    ranks = [int(r) for r in results[_rank_key(search)]]
    order = sorted(range(len(ranks)), key=lambda i: (ranks[i], i))
    if max_runs is not None:
        order = order[:max_runs]
    best = getattr(search, "best_index_", order[0] if order else None)
    numeric = [
        k
        for k, column in results.items()
        if k != "params"
        and not k.startswith("param_")
        and getattr(column, "dtype", None) is not None
        and column.dtype.kind in "iuf"
    ]
    client = _fluent.get_client()
    for i in order:
        values = {k: float(results[k][i]) for k in numeric}
        with client.start_run(  # ended as failed if logging to it fails
            parent.info.experiment,
            workspace=parent.workspace,
            environment=parent.environment,
            name=f"candidate-{i}",
            parent_id=parent.id,
            snapshot=False,  # the parent's snapshot describes this process already
            tags={BEST_TAG: "true"} if i == best else None,
        ) as child:
            child.log_params(flat_params(results["params"][i]))
            child.log_metrics({k: v for k, v in values.items() if math.isfinite(v)})
