"""Promotions that end outside their workspace or in a rollout: one workspace per
environment (the target's policy says whom it accepts from; the copy keeps its lineage), and
a rollout on the target's endpoint as the last gate (the promotion completes only if the
rollout does, and a failed rollout leaves the version out of the target)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Connector
from tests.endpoints.test_rollouts import served
from tests.promotions.test_promotions import frame, settle, train

from modelwright.client import Client
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.workflows import Worker

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]


def two_workspaces(lake: Path) -> dict[str, Any]:
    return {
        "principals": [{"name": n} for n in ("alice", "bob", "carol")],
        "workspaces": [
            {
                "name": "ml",
                "environments": [
                    {"name": "dev", "datastores": [{"name": "lake", "url": str(lake)}]},
                    {"name": "staging"},
                ],
                "grants": [
                    {"principal": "alice", "role": "data-scientist"},
                    {"principal": "bob", "role": "ml-engineer"},
                ],
            },
            {
                "name": "ml-prod",
                "environments": [
                    {
                        "name": "prod",
                        "production": True,
                        "promotion": {
                            "allow_from": ["ml/staging"],
                            "gates": [
                                {"kind": "metric", "require": ["acc >= 0.8"]},
                                # Served from the source workspace, replayed in the target.
                                {"kind": "smoke", "rows": 5},
                                {"kind": "approval", "approvals": 1},
                            ],
                        },
                    }
                ],
                "grants": [
                    {"principal": "bob", "role": "ml-engineer"},
                    {"principal": "alice", "role": "approver"},
                    {"principal": "carol", "role": "approver"},
                ],
            },
        ],
    }


@pytest.fixture
def team(client: Client, connector: Connector, tmp_path: Path) -> dict[str, Client]:
    client.apply(two_workspaces(tmp_path / "lake"))
    people = {n: connector.as_principal(n) for n in ("alice", "bob", "carol")}
    people["alice"].register_dataset("customers", frame(), workspace="ml", environment="dev")
    return people


def test_a_version_crosses_into_the_prod_workspace_as_a_copy_keeping_its_lineage(
    team: dict[str, Client], connector: Connector, unchanged: Unchanged
) -> None:
    alice, bob, carol = team["alice"], team["bob"], team["carol"]
    version = train(alice, 0.93)
    uri = f"models:/churn/{version}"
    with unchanged(), pytest.raises(InvalidInput, match="does not accept promotions from 'ml/dev'"):
        bob.promote(uri, "prod", to_workspace="ml-prod", workspace="ml", wait=False)
    assert settle(
        connector, bob, bob.promote(uri, "staging", workspace="ml", wait=False)
    ).status == ("promoted")
    p = settle(
        connector,
        bob,
        bob.promote(
            uri, "prod", to_workspace="ml-prod", alias="champion", workspace="ml", wait=False
        ),
    )
    assert (p.workspace, p.source, p.target_workspace, p.target) == (
        "ml",
        "staging",
        "ml-prod",
        "prod",
    )
    assert p.status == "awaiting_approval", p.outcome
    assert [g.status for g in p.gates[:2]] == ["passed", "passed"], p.gates
    # Alice produced the version: approving in the other workspace is still her own work.
    with pytest.raises(PermissionDenied, match="another pair of eyes"):
        alice.approve_promotion(p.id, wait=False)
    carol.approve_promotion(p.id, "ok", wait=False)
    p = settle(connector, bob, p)
    assert (p.status, p.promoted_version) == ("promoted", 1), p.outcome
    assert "'ml-prod/prod' as version 1" in p.outcome

    prod = bob.get_model_version("models:/prod/churn@champion", workspace="ml-prod")
    source = bob.get_model_version(uri, workspace="ml")
    assert (prod.version, prod.digest, prod.run_id) == (1, source.digest, source.run_id)
    assert prod.available_in == ["prod"]
    loaded = bob.load_model("models:/prod/churn@champion", workspace="ml-prod")
    x = frame()[["a", "b", "c"]].head(5)
    assert loaded.predict(x).tolist() == bob.load_model(uri, workspace="ml").predict(x).tolist()
    # The copy leads back to the version it came from, and from there to its run and data.
    graph = bob.lineage("model:churn/1", workspace="ml-prod", depth=5)
    [origin] = graph.ancestors
    assert (origin.kind, origin.hidden) == ("model_version", False)
    assert "dev" in origin.label
    [run] = origin.children
    assert (run.kind, run.id) == ("run", source.run_id)
    assert [c.kind for c in run.children] == ["dataset_version"]
    # Both workspaces list the promotion; the same version cannot enter twice.
    assert [x.id for x in bob.list_promotions(workspace="ml-prod")] == [p.id]
    assert p.id in [x.id for x in bob.list_promotions(workspace="ml")]
    with unchanged(), pytest.raises(Conflict, match="available in 'prod' already"):
        bob.promote(uri, "prod", to_workspace="ml-prod", workspace="ml", wait=False)


@pytest.fixture
def prod_endpoint(client: Client, connector: Connector, tmp_path: Path) -> dict[str, Client]:
    """ml-prod/prod serves churn v1 (promoted without a rollout) on endpoint 'churn'."""
    spec = two_workspaces(tmp_path / "lake")
    spec["workspaces"][1]["environments"][0]["promotion"]["gates"] = []
    client.apply(spec)
    people = {n: connector.as_principal(n) for n in ("alice", "bob", "carol")}
    alice, bob = people["alice"], people["bob"]
    alice.register_dataset("customers", frame(), workspace="ml", environment="dev")
    for _ in range(2):
        v = train(alice, 0.9)
        settle(
            connector, bob, bob.promote(f"models:/churn/{v}", "staging", workspace="ml", wait=False)
        )
    settle(connector, bob, bob.promote("models:/churn/1", "prod", to_workspace="ml-prod", workspace="ml", wait=False))  # fmt: skip
    bob.create_endpoint("churn", workspace="ml-prod", environment="prod")
    bob.deploy("churn", "v1", "churn", 1, workspace="ml-prod", environment="prod")
    return people


PROD = {"workspace": "ml-prod", "environment": "prod"}


def test_a_rollout_as_the_last_gate_completes_the_promotion(
    prod_endpoint: dict[str, Client], connector: Connector
) -> None:
    bob = prod_endpoint["bob"]
    plan = {"endpoint": "churn", "steps": [50, 100], "bake_seconds": 0, "min_requests": 5}
    p = settle(
        connector,
        bob,
        bob.promote(
            "models:/churn/2", "prod", to_workspace="ml-prod", alias="champion",
            rollout=plan, workspace="ml", wait=False,
        ),
    )  # fmt: skip
    assert p.status == "rolling_out" and p.rollout_id is not None, p.outcome
    r = bob.get_rollout(p.rollout_id)
    assert (r.deployment, r.model, r.weight) == ("churn-v2", "models:/churn/2", 50)
    for _ in range(2):  # each step: traffic reaches the new deployment, then it is judged
        bob.resume_rollout(r.id)
        served(connector, "churn-v2", ok=10, where=PROD)
        Worker(connector.platform).run_once()
    assert bob.get_rollout(r.id).status == "succeeded"
    p = settle(connector, bob, p)
    assert (p.status, p.promoted_version) == ("promoted", 2), p.outcome
    assert f"after rollout {r.id}" in p.outcome
    assert bob.get_model_version("models:/prod/churn@champion", workspace="ml-prod").version == 2
    served_by = {d.name: d.weight for d in bob.get_endpoint("churn", **PROD).deployments}
    assert served_by == {"churn-v2": 100}


def test_a_rolled_back_rollout_fails_the_promotion_and_the_version_leaves_the_target(
    prod_endpoint: dict[str, Client], connector: Connector, unchanged: Unchanged
) -> None:
    bob, admin = prod_endpoint["bob"], connector.local_admin
    admin.create_principal("dana")
    for ws in ("ml", "ml-prod"):
        admin.grant("dana", "data-scientist", ws)
    dana = connector.as_principal("dana")  # may request promotions, not deploy
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        dana.promote("models:/churn/2", "prod", to_workspace="ml-prod", workspace="ml",
                      rollout={"endpoint": "churn"}, wait=False)  # fmt: skip
    with unchanged(), pytest.raises(InvalidInput, match="unknown signal"):
        bob.promote("models:/churn/2", "prod", to_workspace="ml-prod", workspace="ml",
                    rollout={"endpoint": "churn", "alarms": ["p98_ms > 1"]}, wait=False)  # fmt: skip
    plan = {"endpoint": "churn", "steps": [10, 100], "bake_seconds": 0, "alarms": ["error_rate > 0.05"]}  # fmt: skip
    p = settle(connector, bob, bob.promote("models:/churn/2", "prod", to_workspace="ml-prod", alias="champion", rollout=plan, workspace="ml", wait=False))  # fmt: skip
    assert p.status == "rolling_out"
    r = bob.get_rollout(p.rollout_id or 0)
    bob.resume_rollout(r.id)
    served(connector, r.deployment, ok=5, server=5, where=PROD)
    Worker(connector.platform).run_once()
    assert bob.get_rollout(r.id).status == "rolled_back"
    p = settle(connector, bob, p)
    assert p.status == "failed" and f"rollout {r.id} rolled_back" in p.outcome
    assert {d.name: d.weight for d in bob.get_endpoint("churn", **PROD).deployments} == {"v1": 100}
    copy = bob.get_model_version("models:/churn/2", workspace="ml-prod")
    assert copy.available_in == []  # out of the target again; no alias moved
    with pytest.raises(NotFound):
        bob.get_model_version("models:/prod/churn@champion", workspace="ml-prod")
