"""Endpoint metadata over both backends: deployments, weights, shadow, permissions, audit."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from sqlalchemy import select
from tests.conftest import Connector
from tests.endpoints.conftest import register_churn

from modelwright.client import Client
from modelwright.core.context import utcnow
from modelwright.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from modelwright.store import schema

Unchanged = Callable[[], AbstractContextManager[None]]


def test_deploy_split_and_shadow(client: Client, unchanged: Unchanged) -> None:
    register_churn(client)
    ep = client.create_endpoint("churn", workspace="ml", environment="dev", description="scores")
    assert ep.deployments == [] and ep.generation == 1
    ep = client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    assert [(d.name, d.weight, d.uri) for d in ep.deployments] == [("blue", 100, "models:/churn/1")]
    ep = client.deploy(
        "churn",
        "green",
        "churn",
        2,
        config={"workers": 2, "max_batch_size": 8},
        workspace="ml",
        environment="dev",
    )
    green = next(d for d in ep.deployments if d.name == "green")
    assert green.weight == 0 and green.config.workers == 2 and green.config.max_batch_size == 8
    ep = client.set_traffic("churn", {"blue": 70, "green": 30}, workspace="ml", environment="dev")
    assert {d.name: d.weight for d in ep.deployments} == {"blue": 70, "green": 30}
    with unchanged(), pytest.raises(InvalidInput, match="must sum to 100, got 90"):
        client.set_traffic("churn", {"blue": 60, "green": 30}, workspace="ml", environment="dev")
    with unchanged(), pytest.raises(NotFound, match="deployment 'red' not found"):
        client.set_traffic("churn", {"red": 100}, workspace="ml", environment="dev")
    with unchanged(), pytest.raises(InvalidInput, match="weights must sum to 100, got 150"):
        client.deploy("churn", "red", "churn", 1, weight=50, workspace="ml", environment="dev")

    client.deploy("churn", "shadow", "churn", 2, workspace="ml", environment="dev")
    ep = client.set_shadow("churn", "shadow", 25, workspace="ml", environment="dev")
    assert ep.shadow == "shadow" and ep.shadow_percent == 25
    assert next(d for d in ep.deployments if d.name == "shadow").shadow
    with unchanged(), pytest.raises(Conflict, match="is the shadow"):
        client.set_traffic("churn", {"blue": 50, "shadow": 50}, workspace="ml", environment="dev")
    with unchanged(), pytest.raises(Conflict, match="takes 70% of the live traffic"):
        client.set_shadow("churn", "blue", workspace="ml", environment="dev")
    with unchanged(), pytest.raises(Conflict, match="still takes 70% of the traffic"):
        client.undeploy("churn", "blue", workspace="ml", environment="dev")
    ep = client.undeploy("churn", "shadow", workspace="ml", environment="dev")
    assert ep.shadow is None and [d.name for d in ep.deployments] == ["blue", "green"]
    assert ep.generation == 7

    shown = client.get_endpoint("churn", workspace="ml", environment="dev")
    assert shown == ep
    assert [e.name for e in client.list_endpoints(workspace="ml")] == ["churn"]
    assert client.list_endpoints(workspace="ml", environment="prod") == []
    with unchanged(), pytest.raises(AlreadyExists):
        client.create_endpoint("churn", workspace="ml", environment="dev")
    actions = [
        e.action for e in client.audit_events(workspace="ml") if e.action.startswith("endpoint")
    ]
    assert sorted(set(actions)) == [
        "endpoint.create",
        "endpoint.deploy",
        "endpoint.shadow",
        "endpoint.traffic",
        "endpoint.undeploy",
    ]
    client.delete_endpoint("churn", workspace="ml", environment="dev")
    with pytest.raises(NotFound, match="endpoint 'churn' not found in ml/dev"):
        client.get_endpoint("churn", workspace="ml", environment="dev")


def test_only_versions_available_in_the_environment(
    client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    register_churn(client, versions=1)
    client.create_endpoint("churn", workspace="ml", environment="prod")
    with (
        unchanged(),
        pytest.raises(
            Conflict,
            match=r"models:/churn/1 is not available in environment 'prod' \(available in: dev\)",
        ),
    ):
        client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="prod")
    with unchanged(), pytest.raises(NotFound, match="version 7 of model 'churn' not found"):
        client.deploy("churn", "blue", "churn", 7, workspace="ml", environment="prod")
    with unchanged(), pytest.raises(InvalidInput, match="workers"):
        client.deploy(
            "churn", "blue", "churn", 1, config={"workers": 0}, workspace="ml", environment="prod"
        )
    # A promotion makes the version available in prod.
    with connector.platform.engine.begin() as conn:
        version_id = conn.scalar(select(schema.ModelVersion.id))
        prod = conn.scalar(select(schema.Environment.id).where(schema.Environment.name == "prod"))
        conn.execute(
            schema.ModelVersionEnvironment.__table__.insert().values(
                version_id=version_id,
                environment_id=prod,
                since=utcnow(),
                by="admin",
                how="promoted",
            )
        )
    ep = client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="prod")
    assert ep.deployments[0].weight == 100


def test_permissions(client: Client, connector: Connector, unchanged: Unchanged) -> None:
    register_churn(client, versions=1)
    client.create_endpoint("churn", workspace="ml", environment="dev")
    for name, role in (("dana", "data-scientist"), ("eve", "ml-engineer"), ("olga", "viewer")):
        client.create_principal(name)
        client.grant(name, role, "ml")
    dana = connector.as_principal("dana")
    eve = connector.as_principal("eve")
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not endpoint\.deploy"):
        dana.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    with unchanged(), pytest.raises(PermissionDenied):
        dana.create_endpoint("other", workspace="ml", environment="dev")
    assert dana.get_endpoint("churn", workspace="ml", environment="dev").name == "churn"
    eve.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")

    # The router (a service account that may deploy) asks whether a caller's token may invoke.
    client.create_principal("router", kind="service")
    client.grant("router", "ml-engineer", "ml", "dev")
    router = connector.as_principal("router")
    secret = client.create_token(principal="dana").secret
    decision = router.authorize_invoke(secret, workspace="ml", environment="dev")
    assert decision.allowed and decision.principal == "dana"
    viewer = client.create_token(principal="olga").secret
    decision = router.authorize_invoke(viewer, workspace="ml", environment="dev")
    assert not decision.allowed and decision.status == 403 and "olga" in decision.reason
    decision = router.authorize_invoke("mw_bogus", workspace="ml", environment="dev")
    assert decision.status == 401 and "malformed token" in decision.reason
    # Token introspection is the routers' alone: a user who may deploy may not test tokens.
    with pytest.raises(PermissionDenied, match="only a router's service account"):
        eve.authorize_invoke(secret, workspace="ml", environment="dev")
    with pytest.raises(PermissionDenied):
        dana.authorize_invoke(secret, workspace="ml", environment="dev")
    outsider = "nobody"
    client.create_principal(outsider)
    with pytest.raises(NotFound, match="workspace 'ml' not found"):
        connector.as_principal(outsider).get_endpoint("churn", workspace="ml", environment="dev")
