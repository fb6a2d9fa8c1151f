"""Autologging of scikit-learn: what one fit logs, searches as child runs, turning it off, and
that logging never breaks the user's fit."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from tests.conftest import Connector

import modelwright as mw
from modelwright.autologging import _patch
from modelwright.autologging import sklearn as autolog_sklearn
from modelwright.client import Client


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return x, y


def _pipeline() -> Pipeline:
    return Pipeline([("scaler", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])


def _runs(client: Client) -> list[Any]:
    return client.search_runs("", order_by=["started_at ASC"])


def test_a_pipeline_fit_logs_params_metrics_model_and_data(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = cancer
    mw.sklearn.autolog()
    pipe = _pipeline().fit(x, y)

    (run,) = _runs(mw_client)  # the inner fits of the pipeline's steps log nothing
    assert run.status == "finished"  # started for the fit, ended after it
    assert run.params["clf__C"] == "1.0"
    assert run.params["clf"] == "LogisticRegression"  # estimators by class name
    assert run.params["scaler__with_mean"] == "True"
    assert run.params["steps"] == "[('scaler', StandardScaler), ('clf', LogisticRegression)]"
    assert run.tags["estimator_name"] == "Pipeline"

    predicted, proba = pipe.predict(x), pipe.predict_proba(x)
    expected = {
        "training_score": pipe.score(x, y),
        "training_accuracy_score": skm.accuracy_score(y, predicted),
        "training_precision_score": skm.precision_score(y, predicted),
        "training_recall_score": skm.recall_score(y, predicted),
        "training_f1_score": skm.f1_score(y, predicted),
        "training_log_loss": skm.log_loss(y, proba),
        "training_roc_auc": skm.roc_auc_score(y, proba[:, 1]),
    }
    assert run.metrics == pytest.approx(expected, rel=1e-12)

    (version,) = mw_client.model_versions("pipeline")
    assert version.run_id == run.id
    assert version.signature is not None
    assert [c.name for c in version.signature.inputs.columns] == list(x.columns)
    loaded = mw.load_model("models:/pipeline/latest")
    assert (np.asarray(loaded.predict(x)) == predicted).all()

    assert run.tags["training_data.shape"] == "569x31"
    assert run.tags["training_data.digest"].startswith("sha256:")
    again = _pipeline().fit(x.copy(), y.copy())  # the same content, the same digest
    assert again is not None
    second = _runs(mw_client)[-1]
    assert second.tags["training_data.digest"] == run.tags["training_data.digest"]


def test_multiclass_metrics_are_weighted_and_regressors_get_errors(mw_client: Client) -> None:
    mw.sklearn.autolog(log_models=False)
    x, y = load_wine(return_X_y=True, as_frame=True)
    clf = _pipeline().fit(x, y)
    predicted, proba = clf.predict(x), clf.predict_proba(x)
    run = _runs(mw_client)[-1]
    assert run.metrics["training_f1_score"] == pytest.approx(
        skm.f1_score(y, predicted, average="weighted"), rel=1e-12
    )
    assert run.metrics["training_precision_score"] == pytest.approx(
        skm.precision_score(y, predicted, average="weighted"), rel=1e-12
    )
    assert run.metrics["training_roc_auc"] == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), rel=1e-12
    )

    x, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = LinearRegression().fit(x, y)
    run = _runs(mw_client)[-1]
    p = reg.predict(x)
    assert run.metrics == pytest.approx(
        {
            "training_score": reg.score(x, y),
            "training_mean_squared_error": skm.mean_squared_error(y, p),
            "training_root_mean_squared_error": skm.root_mean_squared_error(y, p),
            "training_mean_absolute_error": skm.mean_absolute_error(y, p),
            "training_r2_score": skm.r2_score(y, p),
        },
        rel=1e-12,
    )
    assert mw_client.list_models() == []  # log_models=False


def test_a_grid_search_logs_its_best_candidates_as_child_runs(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = cancer
    mw.autolog(max_tuning_runs=2)
    grid = {"clf__C": [0.01, 0.1, 1.0, 10.0]}
    search = GridSearchCV(_pipeline(), grid, cv=3).fit(x, y)

    runs = _runs(mw_client)
    (parent,) = [r for r in runs if r.parent_id is None]
    children = [r for r in runs if r.parent_id == parent.id]
    assert len(runs) == 3  # the candidates' own fits are not logged
    assert parent.params["best_clf__C"] == str(search.best_params_["clf__C"])
    assert parent.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    ranks = search.cv_results_["rank_test_score"]
    best_two = sorted(range(len(ranks)), key=lambda i: ranks[i])[:2]
    assert sorted(c.params["clf__C"] for c in children) == sorted(
        str(grid["clf__C"][i]) for i in best_two
    )
    (best,) = [c for c in children if c.tags.get("best_candidate") == "true"]
    assert best.params["clf__C"] == str(search.best_params_["clf__C"])
    assert best.metrics["mean_test_score"] == pytest.approx(search.best_score_)
    assert best.metrics["rank_test_score"] == 1

    # The model logged is the refitted best estimator; it predicts as the search does.
    loaded = mw.load_model("models:/pipeline/latest")
    assert (np.asarray(loaded.predict(x)) == search.predict(x)).all()


def test_fits_on_joblibs_threads_inside_a_fit_are_not_logged(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    mw.sklearn.autolog(log_models=False)
    RandomForestClassifier(n_estimators=4, n_jobs=2, random_state=0).fit(*cancer)
    (run,) = _runs(mw_client)  # its trees are fitted on threads, inside its fit
    assert run.tags["estimator_name"] == "RandomForestClassifier"


def test_a_fit_inside_an_active_run_logs_into_it(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = cancer
    mw.sklearn.autolog(log_models=False)
    with mw.start_run("mine", run_name="by-hand") as run:
        _pipeline().fit(x, y)
        assert mw.active_run() is run  # still open: the user's run
    (only,) = _runs(mw_client)
    assert only.id == run.id and only.name == "by-hand"
    assert "training_accuracy_score" in only.metrics


def test_disable_restores_the_original_methods(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    original_fit = Pipeline.fit
    original_search_fit = GridSearchCV.fit
    assert "fit" not in GridSearchCV.__dict__  # inherited from BaseSearchCV
    mw.sklearn.autolog()
    assert Pipeline.fit is not original_fit
    assert Pipeline.fit.__wrapped__ is original_fit  # functools.wraps
    mw.sklearn.autolog(disable=True)
    assert Pipeline.fit is original_fit
    assert GridSearchCV.fit is original_search_fit
    assert "fit" not in GridSearchCV.__dict__
    _pipeline().fit(*cancer)
    assert _runs(mw_client) == []


def test_autolog_is_off_until_called(cancer: tuple[pd.DataFrame, pd.Series]) -> None:
    assert not _patch.is_patched(Pipeline, "fit")
    assert not hasattr(Pipeline.fit, "__modelwright_autolog__")


@pytest.fixture
def failing_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("metrics store on fire")

    monkeypatch.setattr(autolog_sklearn, "training_metrics", broken)


def test_a_failing_logger_does_not_break_fit(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series], failing_logger: None
) -> None:
    x, y = cancer
    mw.sklearn.autolog(log_models=False)
    with pytest.warns(RuntimeWarning, match="metrics store on fire"):
        pipe = _pipeline().fit(x, y)
    assert pipe.score(x, y) > 0.9  # fitted as usual
    (run,) = _runs(mw_client)
    assert run.status == "finished"  # the run it started is ended all the same
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # silent=True: not even a warning
        mw.sklearn.autolog(log_models=False, silent=True)
        _pipeline().fit(x, y)


def test_a_failing_fit_fails_its_run_and_raises_the_users_error(
    mw_client: Client, cancer: tuple[pd.DataFrame, pd.Series]
) -> None:
    x, y = cancer
    mw.sklearn.autolog()
    with pytest.raises(ValueError, match=r"Unknown label type|continuous"):
        LogisticRegression().fit(x, y + 0.5)
    (run,) = _runs(mw_client)
    assert run.status == "failed"
    assert "ValueError" in run.error


def test_bad_arguments_name_the_field(mw_client: Client) -> None:
    with pytest.raises(mw.InvalidInput, match="max_tuning_runs"):
        mw.sklearn.autolog(max_tuning_runs=-1)
    with pytest.raises(mw.InvalidInput, match="registered_model_name"):
        mw.sklearn.autolog(registered_model_name="no spaces")


@pytest.mark.parametrize("backend", ["http"], indirect=True)
def test_autolog_over_http(connector: Connector, cancer: tuple[pd.DataFrame, pd.Series]) -> None:
    from modelwright import _fluent

    admin = connector.admin()
    admin.create_workspace("ml")
    _fluent._state.client = admin
    try:
        mw.sklearn.autolog(registered_model_name="cancer")
        pipe = _pipeline().fit(*cancer)
        (run,) = admin.search_runs("", workspace="ml")
        assert run.metrics["training_accuracy_score"] == pytest.approx(
            skm.accuracy_score(cancer[1], pipe.predict(cancer[0]))
        )
        loaded = mw.load_model("models:/cancer/latest", workspace="ml")
        assert (np.asarray(loaded.predict(cancer[0])) == pipe.predict(cancer[0])).all()
    finally:
        mw.autolog(disable=True)
        _fluent._state.client = None
