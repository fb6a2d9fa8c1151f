"""Training metrics as MLflow's autologging names them, computed with ``sklearn.metrics``."""

from __future__ import annotations

import math
from collections.abc import Callable
from inspect import getattr_static
from typing import Any

__all__ = ["training_metrics"]


def _weights(sample_weight: Any) -> dict[str, Any]:
    return {} if sample_weight is None else {"sample_weight": sample_weight}


def training_metrics(estimator: Any, x: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
    """``training_score`` from ``estimator.score``; for a classifier accuracy, precision,
    recall and F1 (weighted over classes for more than two, as MLflow's), log loss and ROC
    AUC (one-vs-rest for more than two) when it has ``predict_proba``; for a regressor mse,
    rmse, mae and r2. A metric that cannot be computed for this estimator is left out."""
    from sklearn.base import is_classifier, is_regressor

    out: dict[str, float] = {}
    sw = _weights(sample_weight)
    if is_classifier(estimator):
        _classifier(out, estimator, x, y, sw)
    elif is_regressor(estimator):
        _regressor(out, estimator, x, y, sw)
    same_as = _default_score(estimator)
    if same_as in out:
        # score() would predict again to compute this very value.
        out = {"training_score": out[same_as], **out}
    else:
        _try(out, "training_score", lambda: estimator.score(x, y, **sw))
    return out


def _default_score(estimator: Any) -> str | None:
    """The metric that ``estimator.score`` is by definition (scikit-learn's classifier and
    regressor ``score``, also at the end of a pipeline), else None."""
    from sklearn.base import ClassifierMixin, RegressorMixin
    from sklearn.pipeline import Pipeline

    final = estimator
    while isinstance(final, Pipeline):
        # Statically: Pipeline.score is a descriptor that makes a new function on each access.
        if getattr_static(type(final), "score") is not getattr_static(Pipeline, "score"):
            return None
        final = final.steps[-1][1]
    score = getattr(type(final), "score", None)
    if score is ClassifierMixin.score:
        return "training_accuracy_score"
    if score is RegressorMixin.score:
        return "training_r2_score"
    return None


def _try(out: dict[str, float], key: str, compute: Callable[[], Any]) -> None:
    try:
        value = float(compute())
    except Exception:  # e.g. an estimator without score, labels a metric cannot take
        return
    if math.isfinite(value):
        out[key] = value


def _classifier(out: dict[str, float], est: Any, x: Any, y: Any, sw: dict[str, Any]) -> None:
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y)  # a Series costs sklearn.metrics several conversions per call
    predicted = est.predict(x)
    classes = getattr(est, "classes_", np.unique(y))
    multiclass = len(classes) > 2
    average: dict[str, Any] = (
        {"average": "weighted"} if multiclass else {"average": "binary", "pos_label": classes[-1]}
    )
    _try(out, "training_accuracy_score", lambda: skm.accuracy_score(y, predicted, **sw))
    for key, value in _precision_recall_f1(y, predicted, average, sw).items():
        if math.isfinite(value):
            out[f"training_{key}_score"] = value
    if not hasattr(est, "predict_proba"):
        return
    try:
        proba = est.predict_proba(x)
    except Exception:  # e.g. SVC(probability=False) has the method but cannot answer
        return
    _try(out, "training_log_loss", lambda: skm.log_loss(y, proba, labels=classes, **sw))
    if multiclass:
        _try(
            out,
            "training_roc_auc",
            lambda: skm.roc_auc_score(y, proba, multi_class="ovr", labels=classes, **sw),
        )
    else:
        _try(out, "training_roc_auc", lambda: skm.roc_auc_score(y, proba[:, 1], **sw))


def _precision_recall_f1(
    y: Any, predicted: Any, average: dict[str, Any], sw: dict[str, Any]
) -> dict[str, float]:
    """What precision_score, recall_score and f1_score return, in one pass over the labels."""
    from sklearn.metrics import precision_recall_fscore_support

    try:
        p, r, f, _ = precision_recall_fscore_support(y, predicted, **average, **sw)
    except Exception:  # labels the average cannot take: left out, like any other metric
        return {}
    return {"precision": float(p), "recall": float(r), "f1": float(f)}


def _regressor(out: dict[str, float], est: Any, x: Any, y: Any, sw: dict[str, Any]) -> None:
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y)
    predicted = est.predict(x)
    mse = skm.mean_squared_error(y, predicted, **sw)
    out["training_mean_squared_error"] = float(mse)
    out["training_root_mean_squared_error"] = math.sqrt(mse)
    _try(out, "training_mean_absolute_error", lambda: skm.mean_absolute_error(y, predicted, **sw))
    _try(out, "training_r2_score", lambda: skm.r2_score(y, predicted, **sw))
