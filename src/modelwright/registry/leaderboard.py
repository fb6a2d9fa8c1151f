"""Scoring versions on one holdout dataset, where the model is: the metric that fits the task,
computed with ``sklearn.metrics``, or a user's own callable named by import path.

Only the client imports this (it loads the models); the platform ranks the scores it is sent
(``registry.ranking``), so user code named by ``--metric pkg.mod:fn`` never runs on a server.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from modelwright.errors import InvalidInput

if TYPE_CHECKING:
    from modelwright.registry.predict import LoadedModel

__all__ = [
    "METRICS",
    "Metric",
    "Task",
    "evaluate",
    "features_and_label",
    "metric_help",
    "resolve_metric",
    "score",
    "task_of",
]

Task = Literal["binary", "multiclass", "regression"]
_CLASSIFICATION: frozenset[Task] = frozenset({"binary", "multiclass"})
_BINARY: frozenset[Task] = frozenset({"binary"})
_REGRESSION: frozenset[Task] = frozenset({"regression"})

# fn(y_true, predicted, classes): predicted is labels or, for needs_scores, scores (the
# positive class's probability for a binary model, one column per class for a multiclass one).
MetricFn = Callable[[Any, Any, Any], float]


@dataclass(frozen=True)
class Metric:
    name: str
    tasks: frozenset[Task]
    fn: MetricFn
    needs_scores: bool = False
    higher_is_better: bool | None = None  # None: from the metric's name


def _sk(name: str) -> Any:
    from sklearn import metrics

    return getattr(metrics, name)


def _labels(fn: str, **kw: Any) -> MetricFn:
    return lambda y, p, classes: float(_sk(fn)(y, p, **kw))


def _positive(fn: str) -> MetricFn:
    # The positive class is the last of the model's classes (sorted, as scikit-learn's are).
    return lambda y, p, classes: float(_sk(fn)(y, p, pos_label=classes[-1]))


def _averaged(fn: str, average: str) -> MetricFn:
    return lambda y, p, classes: float(_sk(fn)(y, p, average=average, zero_division=0))


def _roc_auc(y: Any, s: Any, classes: Any) -> float:
    if getattr(s, "ndim", 1) == 1:
        return float(_sk("roc_auc_score")(y, s))
    return float(_sk("roc_auc_score")(y, s, multi_class="ovr", labels=list(classes)))


def _log_loss(y: Any, s: Any, classes: Any) -> float:
    return float(_sk("log_loss")(y, s, labels=list(classes)))


def _rmse(y: Any, p: Any, classes: Any) -> float:
    return float(_sk("root_mean_squared_error")(y, p))


def _builtin() -> dict[str, Metric]:
    out = [
        Metric("auc", _BINARY, _roc_auc, needs_scores=True),
        Metric("roc_auc", _BINARY, _roc_auc, needs_scores=True),
        Metric("roc_auc_ovr", _CLASSIFICATION, _roc_auc, needs_scores=True),
        Metric("log_loss", _CLASSIFICATION, _log_loss, needs_scores=True),
        Metric("accuracy", _CLASSIFICATION, _labels("accuracy_score")),
        Metric("f1", _BINARY, _positive("f1_score")),
        Metric("precision", _BINARY, _positive("precision_score")),
        Metric("recall", _BINARY, _positive("recall_score")),
    ]
    for kind, fn in (
        ("f1", "f1_score"),
        ("precision", "precision_score"),
        ("recall", "recall_score"),
    ):
        out += [
            Metric(f"{kind}_{avg}", _CLASSIFICATION, _averaged(fn, avg))
            for avg in ("macro", "micro", "weighted")
        ]
    out += [
        Metric("r2", _REGRESSION, _labels("r2_score")),
        Metric("rmse", _REGRESSION, _rmse),
        Metric("mse", _REGRESSION, _labels("mean_squared_error")),
        Metric("mae", _REGRESSION, _labels("mean_absolute_error")),
        Metric("mape", _REGRESSION, _labels("mean_absolute_percentage_error")),
    ]
    return {m.name: m for m in out}


METRICS: dict[str, Metric] = _builtin()


def metric_help() -> str:
    """The metrics by task, for ``--metric``'s help."""
    by_task = {
        task: ", ".join(n for n, m in METRICS.items() if task in m.tasks)
        for task in ("binary", "multiclass", "regression")
    }
    return (
        "; ".join(f"{task}: {names}" for task, names in by_task.items())
        + "; or your own as 'package.module:function', called as function(y_true, y_pred)"
        " -> float with predicted labels (values for a regressor), or with scores (the"
        " positive class's probability, one column per class for several classes) if the"
        " function has the attribute needs_scores = True; its higher_is_better attribute, if"
        " set, gives the direction."
    )


def resolve_metric(name: str) -> Metric:
    """A built-in metric, or ``package.module:function`` imported here (in the client)."""
    if name in METRICS:
        return METRICS[name]
    if ":" not in name:
        raise InvalidInput(
            f"metric: {name!r} cannot be computed on a dataset; the metrics are {metric_help()}",
            details={"field": "metric"},
        )
    module, _, attr = name.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            f"metric: cannot import {name!r} ({type(exc).__name__}: {exc})",
            details={"field": "metric"},
        ) from None
    if not callable(fn):
        raise InvalidInput(f"metric: {name!r} is not callable", details={"field": "metric"})
    higher = getattr(fn, "higher_is_better", None)
    return Metric(
        name,
        frozenset({"binary", "multiclass", "regression"}),
        lambda y, p, classes: float(fn(y, p)),
        needs_scores=bool(getattr(fn, "needs_scores", False)),
        higher_is_better=None if higher is None else bool(higher),
    )


def task_of(model: Any, y_true: Any) -> tuple[Task, list[Any]]:
    """The task and, for a classifier, its classes: from the model where it says (a
    scikit-learn estimator or pipeline), else from the label column."""
    import numpy as np

    classes = getattr(model, "classes_", None)
    if classes is not None:
        found = list(classes)
        return ("binary" if len(found) <= 2 else "multiclass"), found
    try:
        from sklearn.base import is_regressor

        if is_regressor(model):
            return "regression", []
    except (ImportError, AttributeError, TypeError):  # not a scikit-learn estimator
        pass
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(np.asarray(y_true))
    if kind in ("binary", "multiclass"):
        return kind, sorted(np.unique(np.asarray(y_true)).tolist())
    return "regression", []


def evaluate(
    metric: Metric, task: Task, classes: Sequence[Any], y_true: Any, predicted: Any
) -> float:
    """``metric`` of ``predicted`` against ``y_true``; a metric that does not fit the task is
    an error naming both, never a number of the wrong kind."""
    import numpy as np

    if task not in metric.tasks:
        fits = ", ".join(n for n, m in METRICS.items() if task in m.tasks)
        what = f"{len(classes)} classes" if task == "multiclass" else task
        raise InvalidInput(
            f"metric: {metric.name} does not apply to a {task} model ({what}); "
            f"for this task use one of {fits}",
            details={"field": "metric", "task": task},
        )
    y = np.asarray(y_true)
    p = np.asarray(predicted)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p.ravel()
    return metric.fn(y.ravel(), p, np.asarray(classes))


def features_and_label(
    frame: Any, inputs: list[str], label: str | None, *, dataset: str, uri: str
) -> tuple[Any, Any]:
    """The model's input columns and the label column of a holdout frame."""
    names = [str(c) for c in frame.columns]
    missing = [c for c in inputs if c not in names]
    if missing:
        raise InvalidInput(
            f"dataset: {dataset} lacks column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} of the signature of {uri} "
            f"(its columns: {', '.join(names)})",
            details={"field": "dataset", "columns": missing, "problem": "missing"},
        )
    if label is None:
        rest = [c for c in names if c not in inputs]
        if len(rest) != 1:
            raise InvalidInput(
                f"label: cannot tell the label column of {dataset} for {uri} (columns beyond "
                f"its inputs: {', '.join(rest) or 'none'}); pass label=...",
                details={"field": "label"},
            )
        label = rest[0]
    if label not in names:
        raise InvalidInput(
            f"label: dataset {dataset} has no column '{label}'", details={"field": "label"}
        )
    x = frame[inputs] if inputs else frame.drop(columns=[label])
    return x, frame[label]


def score(
    model: LoadedModel,
    frame: Any,
    metrics: Sequence[Metric],
    *,
    label: str | None,
    dataset: str,
    uri: str,
) -> dict[str, float]:
    """Each metric of ``model`` on the holdout ``frame`` (predicting once per kind of output)."""
    signature = model.signature
    inputs = [c.name for c in signature.inputs.columns] if signature is not None else []
    x, y = features_and_label(frame, inputs, label, dataset=dataset, uri=uri)
    task, classes = task_of(model.raw, y)
    outputs: dict[bool, Any] = {}
    values = {}
    for metric in metrics:
        if metric.needs_scores not in outputs:
            outputs[metric.needs_scores] = (
                model.scores(x) if metric.needs_scores else model.predict(x)
            )
        values[metric.name] = evaluate(metric, task, classes, y, outputs[metric.needs_scores])
    return values
