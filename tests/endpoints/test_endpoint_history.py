"""``endpoint history``: what served which share when, read back from the audit trail, for
readers of the environment only."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import Connector
from tests.endpoints.conftest import register_churn

from modelwright.client import Client
from modelwright.errors import NotFound, PermissionDenied

WHERE = {"workspace": "ml", "environment": "dev"}


def _moment() -> datetime:
    """A time strictly between the change before and the change after."""
    time.sleep(0.01)
    at = datetime.now(UTC)
    time.sleep(0.01)
    return at


def test_what_served_which_share_at_a_time(client: Client) -> None:
    register_churn(client)
    before_creation = _moment()
    client.create_endpoint("churn", **WHERE)
    client.deploy("churn", "blue", "churn", 1, **WHERE)
    only_blue = _moment()
    client.deploy("churn", "green", "churn", 2, **WHERE)
    client.set_traffic("churn", {"blue": 70, "green": 30}, **WHERE)
    split = _moment()
    client.set_traffic("churn", {"green": 100}, **WHERE)
    client.undeploy("churn", "blue", **WHERE)
    client.delete_endpoint("churn", **WHERE)

    [at_blue] = client.endpoint_history("churn", at=only_blue, **WHERE)
    assert at_blue.exists and at_blue.change == "deploy"
    assert {d: (s.version, s.weight) for d, s in at_blue.deployments.items()} == {"blue": (1, 100)}
    [at_split] = client.endpoint_history("churn", at=split, **WHERE)
    assert at_split.change == "traffic"
    assert {d: (s.version, s.weight) for d, s in at_split.deployments.items()} == {
        "blue": (1, 70),
        "green": (2, 30),
    }
    assert client.endpoint_history("churn", at=before_creation, **WHERE) == []
    # The endpoint is gone now, and its history stays: newest first, ending in its deletion.
    changes = client.endpoint_history("churn", **WHERE)
    assert not changes[0].exists
    assert changes[-1].change == "create" and changes[-1].deployments == {}
    assert len(changes) == 7
    assert all(a.at >= b.at for a, b in itertools.pairwise(changes))
    [gone] = client.endpoint_history("churn", at=datetime.now(UTC) + timedelta(seconds=1), **WHERE)
    assert not gone.exists and gone.deployments == {}


def test_unknown_endpoint_and_readers_only(client: Client, connector: Connector) -> None:
    register_churn(client, versions=1)
    client.create_endpoint("churn", workspace="ml", environment="prod")
    with pytest.raises(NotFound, match="endpoint 'nope' not found"):
        client.endpoint_history("nope", **WHERE)
    with pytest.raises(NotFound, match="environment"):
        client.endpoint_history("churn", workspace="ml", environment="nowhere")
    client.create_principal("pat")
    client.grant("pat", "data-scientist", "ml", "dev")
    pat = connector.as_principal("pat")
    with pytest.raises(PermissionDenied):
        pat.endpoint_history("churn", workspace="ml", environment="prod")
    client.create_principal("nobody")
    with pytest.raises(NotFound, match="workspace 'ml' not found"):
        connector.as_principal("nobody").endpoint_history(
            "churn", workspace="ml", environment="prod"
        )
