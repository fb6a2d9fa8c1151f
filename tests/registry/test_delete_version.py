"""Deleting model versions, through both backends on both databases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from tests.conftest import Connector
from tests.registry.conftest import Doubler

from modelwright.client import Client
from modelwright.errors import Conflict, NotFound, PermissionDenied

Unchanged = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def test_a_version_in_use_is_refused_naming_each_user_then_deleted(
    client: Client, ws: str, frame, unchanged: Unchanged
) -> None:
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(Doubler(), "churn", input_example=frame[:3])
        run.log_model(Doubler(), "churn", input_example=frame[:4])
    client.set_alias("churn", "champion", 1, workspace=ws, environment="dev")
    client.create_endpoint("scores", workspace=ws, environment="dev")
    client.deploy("scores", "blue", "churn", 1, workspace=ws, environment="dev")
    with (
        unchanged(),
        pytest.raises(
            Conflict,
            match=r"models:/churn/1 is in use, so it cannot be deleted: alias 'champion' in "
            r"dev; deployment 'blue' of endpoint 'scores' in ml/dev",
        ) as refused,
    ):
        client.delete_model_version("churn", 1, workspace=ws)
    assert refused.value.details["used_by"] == [
        "alias 'champion' in dev",
        "deployment 'blue' of endpoint 'scores' in ml/dev",
    ]
    client.delete_alias("churn", "champion", workspace=ws, environment="dev")
    client.undeploy("scores", "blue", workspace=ws, environment="dev")

    deleted = client.delete_model_version("churn", 1, workspace=ws)
    assert deleted.uri == "models:/churn/1"
    with pytest.raises(NotFound, match="version 1 of model 'churn' not found"):
        client.get_model_version("models:/churn/1", workspace=ws)
    assert [v.version for v in client.model_versions("churn", workspace=ws)] == [2]
    lineage = client.lineage(f"run:{run.id}", workspace=ws)
    assert [n.id for n in lineage.descendants if n.kind == "model_version"] != []
    assert all(n.label.find("churn/v1") < 0 for n in lineage.descendants)
    # the other version still loads and predicts
    model = client.load_model("models:/churn/2", workspace=ws)
    assert list(model.predict(frame[:2])) == list(frame["tenure"][:2] * 2)


def test_deleting_a_version_is_permission_checked_and_audited(
    connector: Connector, client: Client, ws: str, frame, unchanged: Unchanged
) -> None:
    client.create_principal("vera")
    client.create_principal("sam")
    client.grant("vera", "viewer", ws)
    client.grant("sam", "data-scientist", ws, "dev")
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(Doubler(), "churn", input_example=frame[:3])
    viewer = connector.as_principal("vera")
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not model\.register"):
        viewer.delete_model_version("churn", 1, workspace=ws)
    scientist = connector.as_principal("sam")
    deleted = scientist.delete_model_version("churn", 1, workspace=ws)
    [event] = client.audit_events(action="model_version.delete")
    assert (event.principal, event.target, event.environment) == ("sam", "model/ml/churn/1", "dev")
    assert event.before is not None and event.before["digest"] == deleted.digest


def test_a_deleted_versions_number_is_never_given_again(client: Client, ws: str, frame) -> None:
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(Doubler(), "churn", input_example=frame[:3])
        run.log_model(Doubler(), "churn", input_example=frame[:4])
    client.delete_model_version("churn", 2, workspace=ws)
    with client.start_run("churn", workspace=ws) as run:
        # The very artifact of the deleted version: a new version, under a new number.
        again = run.log_model(Doubler(), "churn", input_example=frame[:4])
    assert again.version == 3
    assert [v.version for v in client.model_versions("churn", workspace=ws)] == [1, 3]
    with pytest.raises(NotFound, match="version 2 of model 'churn' not found"):
        client.get_model_version("models:/churn/2", workspace=ws)
