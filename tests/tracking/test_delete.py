"""Deleting and restoring runs and experiments, through both backends on both databases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from tests.conftest import Connector

import modelwright as mw
from modelwright.client import Client
from modelwright.core.clock import utcnow
from modelwright.errors import Conflict, NotFound, PermissionDenied
from modelwright.store import schema
from modelwright.tracking.models import RunInfo

Unchanged = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def _ids(runs: list[RunInfo]) -> set[str]:
    return {r.id for r in runs}


def _age_deletions(connector: Connector, days: float) -> None:
    """As if every deletion had happened ``days`` ago (the retention is counted from it)."""
    then = utcnow() - timedelta(days=days)
    with connector.platform.engine.begin() as conn:
        for table in (schema.Run, schema.Experiment):
            conn.execute(update(table).where(table.deleted_at.is_not(None)).values(deleted_at=then))


def test_a_deleted_run_is_hidden_restorable_and_no_longer_written_to(
    client: Client, ws: str
) -> None:
    with client.start_run("churn", workspace=ws, name="kept") as kept:
        kept.log_metric("auc", 0.8)
    with client.start_run("churn", workspace=ws, name="parent") as parent:
        parent.log_metric("auc", 0.9)
        child = client.start_run("churn", workspace=ws, name="node", parent_id=parent.id)
        child.end()
    deletion = client.delete_run(parent.id)
    assert deletion.target == f"run/{parent.id}" and not deletion.permanent
    assert set(deletion.runs) == {parent.id, child.id}  # its child goes with it
    assert deletion.deleted_at is not None and deletion.permanent_after is not None
    assert deletion.permanent_after - deletion.deleted_at == timedelta(days=30)

    assert _ids(client.search_runs(workspace=ws)) == {kept.id}
    assert _ids(client.search_runs(workspace=ws, view_type="deleted_only")) == {
        parent.id,
        child.id,
    }
    assert _ids(client.search_runs(workspace=ws, view_type="all")) == {kept.id, parent.id, child.id}
    shown = client.get_run(parent.id)  # still readable by id, marked deleted
    assert shown.deleted_at == deletion.deleted_at and shown.metrics == {"auc": 0.9}
    with pytest.raises(Conflict, match="is deleted: nothing more can be logged"):
        client.log_batch(parent.id, params={"x": 1})
    # deleting again changes nothing
    assert client.delete_run(parent.id).deleted_at == deletion.deleted_at

    restored = client.restore_run(parent.id)
    assert restored.deleted_at is None
    assert _ids(client.search_runs(workspace=ws)) == {kept.id, parent.id, child.id}


def test_a_child_deleted_on_its_own_stays_deleted_when_its_parent_is_restored(
    client: Client, ws: str
) -> None:
    with client.start_run("x", workspace=ws) as parent:
        child = client.start_run("x", workspace=ws, parent_id=parent.id)
        child.end()
    client.delete_run(child.id)
    client.delete_run(parent.id)
    client.restore_run(parent.id)
    assert client.get_run(parent.id).deleted_at is None
    assert client.get_run(child.id).deleted_at is not None


def test_permanent_deletion_waits_for_the_retention_then_removes_the_rows(
    connector: Connector, client: Client, ws: str, unchanged: Unchanged
) -> None:
    with client.start_run("x", workspace=ws) as run:
        run.log_params({"depth": 3})
        run.log_metric("auc", 0.9)
    with unchanged(), pytest.raises(Conflict, match="is not deleted: delete it first"):
        client.delete_run(run.id, permanent=True)
    client.delete_run(run.id)
    with (
        unchanged(),
        pytest.raises(
            Conflict,
            match=r"may be deleted permanently from .* after the retention of 30 days "
            r"\(MODELWRIGHT_DELETION_RETENTION_DAYS\); until then it can be restored",
        ),
    ):
        client.delete_run(run.id, permanent=True)
    _age_deletions(connector, 31)
    gone = client.delete_run(run.id, permanent=True)
    assert gone.permanent and gone.runs == [run.id]
    with pytest.raises(NotFound):
        client.get_run(run.id)
    with connector.platform.engine.connect() as conn:
        for table in (schema.RunMetric, schema.RunParam, schema.LatestMetric):
            n = conn.scalar(select(func.count()).select_from(table).where(table.run_id == run.id))
            assert n == 0, table.__tablename__


def test_an_experiment_is_deleted_and_restored_with_its_runs(
    connector: Connector, client: Client, ws: str
) -> None:
    with client.start_run("old", workspace=ws) as a:
        pass
    with client.start_run("old", workspace=ws) as b:
        pass
    with client.start_run("new", workspace=ws) as other:
        pass
    client.delete_run(b.id)  # deleted before the experiment: stays deleted after its restore
    deletion = client.delete_experiment("old", workspace=ws)
    assert deletion.target == "experiment/ml/old" and deletion.runs == [a.id]
    assert [e.name for e in client.list_experiments(ws)] == ["new"]
    hidden = client.list_experiments(ws, view_type="deleted_only")
    assert [e.name for e in hidden] == ["old"] and hidden[0].deleted_at is not None
    assert hidden[0].runs == 1  # the run deleted with it (b was deleted before)
    assert _ids(client.search_runs(workspace=ws)) == {other.id}
    with pytest.raises(Conflict, match="experiment 'old' of workspace 'ml' is deleted"):
        client.start_run("old", workspace=ws)
    with pytest.raises(Conflict, match="restore the experiment"):
        client.restore_run(a.id)

    info = client.restore_experiment("old", workspace=ws)
    assert info.deleted_at is None and info.runs == 1
    assert _ids(client.search_runs(workspace=ws)) == {a.id, other.id}
    assert {e.name: e.runs for e in client.list_experiments(ws)} == {"old": 1, "new": 1}

    client.delete_experiment("old", workspace=ws)
    _age_deletions(connector, 31)
    gone = client.delete_experiment("old", workspace=ws, permanent=True)
    assert gone.permanent and set(gone.runs) == {a.id, b.id}
    assert [e.name for e in client.list_experiments(ws, view_type="all")] == ["new"]
    with pytest.raises(NotFound):
        client.get_run(b.id)


def test_every_deletion_is_permission_checked_and_audited(
    connector: Connector, client: Client, ws: str, unchanged: Unchanged
) -> None:
    client.create_principal("vera")
    client.create_principal("sam")
    client.grant("vera", "viewer", ws)
    client.grant("sam", "data-scientist", ws, "dev")
    with client.start_run("x", workspace=ws) as run:
        pass
    with client.start_run("x", workspace=ws, environment="staging") as staged:
        pass
    viewer = connector.as_principal("vera")
    with unchanged():
        with pytest.raises(PermissionDenied, match=r"may not pipeline\.run"):
            viewer.delete_run(run.id)
        with pytest.raises(PermissionDenied, match=r"may not pipeline\.run"):
            viewer.delete_experiment("x", workspace=ws)
    scientist = connector.as_principal("sam")
    with unchanged(), pytest.raises(PermissionDenied, match="environment 'staging'"):
        # the experiment has a run in staging, where sam may not run pipelines
        scientist.delete_experiment("x", workspace=ws)
    scientist.delete_run(run.id)
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not pipeline\.run"):
        viewer.restore_run(run.id)
    scientist.restore_run(run.id)
    client.delete_experiment("x", workspace=ws)
    client.restore_experiment("x", workspace=ws)
    assert staged.id

    events = client.audit_events(workspace=ws)
    actions = [(e.principal, e.action, e.target) for e in reversed(events)]
    assert ("sam", "run.delete", f"run/{run.id}") in actions
    assert ("sam", "run.restore", f"run/{run.id}") in actions
    assert ("admin", "experiment.delete", "experiment/ml/x") in actions
    assert ("admin", "experiment.restore", "experiment/ml/x") in actions
    deleted = next(e for e in events if e.action == "experiment.delete")
    assert deleted.after is not None and set(deleted.after["runs"]) == {run.id, staged.id}


def test_the_sdk_deletes_and_restores_runs(
    client: Client, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelwright import _fluent

    monkeypatch.setattr(_fluent, "get_client", lambda: client)
    with client.start_run("x", workspace=ws) as run:
        pass
    assert mw.delete_run(run.id).runs == [run.id]
    assert client.search_runs(workspace=ws) == []
    assert mw.restore_run(run.id).deleted_at is None
    assert _ids(client.search_runs(workspace=ws)) == {run.id}
