"""Deleting dataset versions (and endpoints in use), through both backends on both databases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import Connector
from tests.registry.conftest import Doubler

from modelwright.client import Client
from modelwright.errors import Conflict, NotFound, PermissionDenied

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}


@pytest.fixture
def ws(client: Client, tmp_path: Path) -> str:
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    return "ml"


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"tenure": [float(i) for i in range(n)], "calls": list(range(n))})


def test_a_version_a_model_was_trained_on_is_refused_naming_the_model(
    client: Client, ws: str, unchanged: Unchanged
) -> None:
    client.register_dataset("customers", _frame(10), **WHERE)
    client.register_dataset("customers", _frame(12), **WHERE)
    client.register_dataset("unused", _frame(5), **WHERE)
    with client.start_run("churn", workspace=ws) as run:
        train = client.load_dataset("customers@v1", run_id=run.id, **WHERE)  # lineage: an input
        run.log_model(Doubler(), "churn", input_example=train[:3])
    with (
        unchanged(),
        pytest.raises(
            Conflict,
            match=r"dataset ml/dev/customers@v1 is needed, so it cannot be deleted: "
            r"model ml/churn/v1",
        ) as refused,
    ):
        client.delete_dataset_version("customers@v1", **WHERE)
    assert refused.value.details["needed_by"] == ["model ml/churn/v1"]

    gone = client.delete_dataset_version("customers@v2", **WHERE)
    assert (gone.name, gone.version) == ("customers", 2)
    with pytest.raises(NotFound, match="has no version v2"):
        client.get_dataset_version("customers@v2", **WHERE)
    assert client.delete_dataset_version("unused@v1", **WHERE).version == 1

    # once the model version is gone, nothing needs the data any more
    client.delete_model_version("churn", 1, workspace=ws)
    client.delete_dataset_version("customers@v1", **WHERE)
    assert client.get_dataset("customers", **WHERE).history == []


def test_a_monitor_baseline_keeps_its_version_and_its_endpoint(
    client: Client, ws: str, unchanged: Unchanged
) -> None:
    client.register_dataset("customers", _frame(10), **WHERE)
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(Doubler(), "churn", input_example=_frame(3))
    client.create_endpoint("scores", **WHERE)
    client.deploy("scores", "blue", "churn", 1, **WHERE)
    client.create_monitor("drift", endpoint="scores", baseline="customers@v1", **WHERE)
    with (
        unchanged(),
        pytest.raises(Conflict, match=r"monitor 'drift' in ml/dev \(baseline\)"),
    ):
        client.delete_dataset_version("customers@v1", **WHERE)
    with (
        unchanged(),
        pytest.raises(
            Conflict,
            match=r"endpoint 'scores' is in use, so it cannot be deleted: monitor 'drift'",
        ),
    ):
        client.delete_endpoint("scores", **WHERE)
    client.delete_monitor("drift", **WHERE)
    client.delete_endpoint("scores", **WHERE)
    assert [e.action for e in client.audit_events(action="endpoint.delete")] == ["endpoint.delete"]


def test_deleting_a_version_is_permission_checked_and_audited(
    connector: Connector, client: Client, ws: str, unchanged: Unchanged
) -> None:
    client.create_principal("vera")
    client.create_principal("sam")
    client.grant("vera", "viewer", ws)
    client.grant("sam", "data-scientist", ws, "dev")
    client.register_dataset("customers", _frame(10), **WHERE)
    client.create_endpoint("scores", **WHERE)
    viewer = connector.as_principal("vera")
    with unchanged():
        with pytest.raises(PermissionDenied, match=r"may not data\.write"):
            viewer.delete_dataset_version("customers@v1", **WHERE)
        with pytest.raises(PermissionDenied, match=r"may not endpoint\.deploy"):
            viewer.delete_endpoint("scores", **WHERE)
    deleted = connector.as_principal("sam").delete_dataset_version("customers@v1", **WHERE)
    [event] = client.audit_events(action="dataset_version.delete")
    assert (event.principal, event.target) == ("sam", "dataset/ml/dev/customers@v1")
    assert event.before is not None and event.before["digest"] == deleted.digest


def test_a_deleted_versions_number_is_never_given_again(client: Client, ws: str) -> None:
    client.register_dataset("customers", _frame(10), **WHERE)
    client.register_dataset("customers", _frame(12), **WHERE)
    client.delete_dataset_version("customers@v2", **WHERE)
    # The very data of the deleted version: a new version, under a new number.
    again = client.register_dataset("customers", _frame(12), **WHERE)
    assert again.version == 3
    assert [v.version for v in client.get_dataset("customers", **WHERE).history] == [1, 3]
    with pytest.raises(NotFound, match="has no version v2"):
        client.get_dataset_version("customers@v2", **WHERE)
