"""Retraining from a monitor over both backends and both databases: a firing alert runs a
pipeline of a project snapshot as the action's author, registers its model and opens a
promotion request that waits for its approval; a second firing within the cooldown is
skipped and says why; bad actions and people without the rights change nothing."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Connector
from tests.monitoring.monitor_data import FEATURES, customers

from modelwright.api import retrain as ops
from modelwright.client import Client
from modelwright.core.platform import LOCAL_ADMIN
from modelwright.errors import InvalidInput, PermissionDenied
from modelwright.monitors.service import record_evaluation
from modelwright.objects.models import ObjectScope
from modelwright.pipelines.snapshot import pack_project
from modelwright.workflows import Worker

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}

PROJECT = """
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from modelwright.pipelines import node, pipeline


def data(n, seed):
    rng = np.random.default_rng(int(seed))
    frame = pd.DataFrame({
        "tenure": rng.normal(size=int(n)),
        "calls": rng.integers(0, 5, size=int(n)),
        "plan": rng.choice(["basic", "plus", "pro"], size=int(n)),
    })
    frame["churned"] = (frame["tenure"] > 0).astype(int)
    return frame


def fit(frame):
    x = pd.get_dummies(frame[["tenure", "calls"]])
    return LogisticRegression().fit(x, frame["churned"])


def example(frame):
    return frame[["tenure", "calls"]].head(5)


PIPELINES = {
    "train": pipeline([
        node(data, inputs=["params:n", "params:seed"], outputs="frame"),
        node(fit, inputs="frame", outputs="model"),
        node(example, inputs="frame", outputs="example"),
    ]),
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "base" / "parameters.yml").write_text("n: 100\nseed: 1\n")
    (root / "conf" / "base" / "catalog.yml").write_text("")
    (root / "pipelines.py").write_text(textwrap.dedent(PROJECT))
    return root


@pytest.fixture
def lake(client: Client, tmp_path: Path) -> Path:
    """ml: dev (endpoint churn serving models:/churn/1, baseline customers@v1) → staging
    (one approval) → prod; alice scientist, bob engineer, carol approver."""
    from sklearn.dummy import DummyClassifier

    lake = tmp_path / "lake"
    client.apply(
        {
            "principals": [{"name": n} for n in ("alice", "bob", "carol")],
            "workspaces": [
                {
                    "name": "ml",
                    "environments": [
                        {"name": "dev", "datastores": [{"name": "lake", "url": str(lake)}]},
                        {
                            "name": "staging",
                            "promotion": {"gates": [{"kind": "approval", "approvals": 1}]},
                        },
                        {"name": "prod", "production": True},
                    ],
                    "grants": [
                        {"principal": "alice", "role": "data-scientist"},
                        {"principal": "bob", "role": "ml-engineer"},
                        {"principal": "carol", "role": "approver", "environments": ["staging"]},
                    ],
                }
            ],
        }
    )
    base = customers()
    client.register_dataset("customers", base, **WHERE)
    with client.start_run("churn", **WHERE) as run:
        model = DummyClassifier().fit(base[FEATURES], base["churned"])
        run.log_model(model, "churn", input_example=base[FEATURES].head())
    client.create_endpoint("churn", **WHERE)
    client.deploy("churn", "blue", "churn", 1, **WHERE)
    client.create_monitor(
        "watch", endpoint="churn", baseline="customers@v1", signals=["drift"], **WHERE
    )
    client.add_alert_rule("watch", "drifting", when="drift.share >= 0.5", **WHERE)
    return lake


def evaluated(connector: Connector, client: Client, n: int, share: float) -> None:
    """An evaluation of monitor watch whose drift share was ``share`` (its record step)."""
    platform = connector.platform
    monitor_id = client.get_monitor("watch", **WHERE).id
    detail = client.get_monitor("watch", **WHERE)
    at = (detail.last_evaluated_at or detail.created_at) + timedelta(minutes=5 * n)
    plan = {"window_start": (at - timedelta(hours=1)).isoformat(), "window_end": at.isoformat()}
    row = {"signal": "drift", "metric": "drift_share", "feature": None, "value": share,
           "threshold": 0.5, "status": "alert" if share >= 0.5 else "ok", "detail": ""}  # fmt: skip
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        record_evaluation(ctx, monitor_id, plan, {"rows": [row], "error": None}, None)


def run_job(connector: Connector, client: Client, job_id: int | None) -> None:
    assert job_id is not None
    Worker(connector.platform).run_now(job_id)
    job = client.get_job(job_id)
    assert job.status in ("succeeded", "waiting"), job.error


def configure(client: Client, project: Path, **kw: Any) -> None:
    fields: dict[str, Any] = {
        "project": project, "pipeline": "train", "model": "churn", "example": "example",
        "params": ["n=200"], "promote_to": "staging", "alias": "challenger",
        "cooldown_seconds": 6 * 3600, **WHERE,
    }  # fmt: skip
    client.set_retraining("watch", **{**fields, **kw})


def test_a_firing_alert_retrains_registers_and_opens_a_promotion_awaiting_approval(
    lake: Path, project: Path, client: Client, connector: Connector
) -> None:
    configure(client, project)
    action = client.get_retraining("watch", **WHERE).action
    assert action is not None
    assert (action.pipeline, action.train_in, action.promote_to, action.alias) == (
        "train", "dev", "staging", "challenger"
    )  # fmt: skip
    assert action.last_started_at is None

    evaluated(connector, client, 1, 0.2)  # no firing: nothing starts
    assert client.get_retraining("watch", **WHERE).history == []
    evaluated(connector, client, 2, 0.8)
    [started] = client.get_retraining("watch", **WHERE).history
    assert (started.trigger, started.rule, started.status) == ("alert", "drifting", "running")
    run_job(connector, client, started.job_id)

    [done] = client.get_retraining("watch", **WHERE).history
    assert done.status == "succeeded", done.reason
    assert done.version == 2 and done.promotion_id is not None
    version = client.get_model_version("models:/churn/2", **WHERE)
    assert version.run_id == done.run_id
    assert [c.name for c in version.signature.inputs.columns] == ["tenure", "calls"]  # type: ignore[union-attr]
    promotion = client.get_promotion(done.promotion_id)
    assert (promotion.version, promotion.target, promotion.alias) == (2, "staging", "challenger")
    assert promotion.requested_by == client.whoami().principal
    run_job(connector, client, promotion.job_id)
    promotion = client.get_promotion(done.promotion_id)
    assert promotion.status == "awaiting_approval"  # the gates decide, not the retraining

    events = connector.local_admin.events(kind="retraining.finished")
    assert [(e.data["status"], e.data["promotion_id"]) for e in events] == [
        ("succeeded", done.promotion_id)
    ]
    assert len(connector.local_admin.events(kind="retraining.started")) == 1


def test_a_second_firing_within_the_cooldown_is_skipped_and_force_starts_anyway(
    lake: Path, project: Path, client: Client, connector: Connector
) -> None:
    configure(client, project)
    evaluated(connector, client, 1, 0.8)
    evaluated(connector, client, 2, 0.1)  # resolved
    evaluated(connector, client, 3, 0.9)  # fires again, within the cooldown
    skipped, started = client.get_retraining("watch", **WHERE).history
    assert (started.status, skipped.status) == ("running", "skipped")
    assert skipped.job_id is None
    assert skipped.reason.startswith("cooldown: a retraining started at ")
    assert "21600s cooldown" in skipped.reason

    again = client.run_retraining("watch", **WHERE)
    assert (again.status, again.trigger, again.job_id) == ("skipped", "manual", None)
    forced = client.run_retraining("watch", force=True, **WHERE)
    assert forced.status == "running" and forced.job_id is not None
    assert "cooldown overridden" in forced.reason
    assert len(connector.local_admin.events(kind="retraining.skipped")) == 2


def test_setting_needs_endpoint_deploy_and_promotion_request_in_the_target(
    lake: Path, project: Path, client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    alice, bob = connector.as_principal("alice"), connector.as_principal("bob")
    digest = alice.transport.put_object(ObjectScope.artifacts(), pack_project(project))
    bob.transport.put_object(ObjectScope.artifacts(), pack_project(project))
    assert digest
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        configure(alice, project)
    client.create_principal("eve")
    client.grant("eve", "ml-engineer", "ml", "dev")
    eve = connector.as_principal("eve")
    eve.transport.put_object(ObjectScope.artifacts(), pack_project(project))
    with unchanged(), pytest.raises(PermissionDenied, match=r"promotion\.request"):
        configure(eve, project)
    configure(bob, project)
    action = bob.get_retraining("watch", **WHERE).action
    assert action is not None and action.created_by == "bob"
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        alice.run_retraining("watch", **WHERE)
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        alice.clear_retraining("watch", **WHERE)
    assert alice.get_retraining("watch", **WHERE).action is not None  # reading is allowed
    bob.clear_retraining("watch", **WHERE)
    assert client.get_retraining("watch", **WHERE).action is None


def test_bad_actions_are_refused_and_change_nothing(
    lake: Path, project: Path, client: Client, unchanged: Unchanged
) -> None:
    digest = client.transport.put_object(ObjectScope.artifacts(), pack_project(project))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"pipeline": "nope"}, "the project has no pipeline 'nope' \\(it has: train\\)"),
        ({"promote_to": "nowhere"}, "promote_to: environment 'nowhere' not found"),
        ({"promote_to": "dev"}, "'dev' does not come after 'dev'"),
        ({"train_in": "prod", "promote_to": None}, "'prod' is the last environment"),
        ({"train_in": "qa"}, "train_in: environment 'qa' not found"),
    ]
    for change, message in cases:
        with unchanged(), pytest.raises(InvalidInput, match=message):
            configure(client, project, **change)
    # The server reads the snapshot's pipelines too, whoever sends the request.
    fields = {"name": "watch", "project": digest, "pipeline": "nope", "model": "churn", **WHERE}
    with unchanged(), pytest.raises(InvalidInput, match="no pipeline 'nope'"):
        client.call(ops.SET_RETRAINING, **fields)
    with unchanged(), pytest.raises(InvalidInput, match="cooldown_seconds"):
        client.call(ops.SET_RETRAINING, **{**fields, "pipeline": "train", "cooldown_seconds": 1})
    assert client.get_retraining("watch", **WHERE).action is None
