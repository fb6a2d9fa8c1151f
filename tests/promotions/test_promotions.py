"""Promotions through the client, over both backends and both databases: gates with their
evidence, four-eyes approval, the path one step at a time, and bad requests that change
nothing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.promotions import models as pm
from modelwright.workflows import Worker

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]

STAGING_GATES: list[dict[str, Any]] = [
    {"kind": "metric", "require": ["acc >= 0.8"]},
    {"kind": "policy"},
    {"kind": "approval", "approvals": 1},
]


def platform_spec(
    lake: Path, staging: list[dict[str, Any]], prod: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "principals": [{"name": n} for n in ("alice", "bob", "carol", "dave")],
        "workspaces": [
            {
                "name": "ml",
                "environments": [
                    {
                        "name": "dev",
                        "datastores": [{"name": "lake", "url": str(lake)}],
                    },
                    {
                        "name": "staging",
                        "promotion": {"gates": staging},
                        "datastores": [{"name": "lake", "url": str(lake) + "-staging"}],
                    },
                    {"name": "prod", "production": True, "promotion": {"gates": prod}},
                ],
                "grants": [
                    {"principal": "alice", "role": "data-scientist"},
                    # An approver too, which four eyes must not let her use on her own work.
                    {"principal": "alice", "role": "approver", "environments": ["staging"]},
                    {"principal": "bob", "role": "ml-engineer"},
                    {"principal": "carol", "role": "approver", "environments": ["staging", "prod"]},
                    {"principal": "dave", "role": "approver", "environments": ["staging", "prod"]},
                ],
            }
        ],
    }


def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    x["y"] = (x["a"] > 0).astype(int)
    return x


def train(client: Client, acc: float, *, with_data: bool = True, wrong: bool = False) -> int:
    from sklearn.linear_model import LogisticRegression

    data = frame()
    if wrong:  # learns a column unrelated to the label
        data = data.assign(y=(data["c"] > 0).astype(int))
    with client.start_run("train", workspace="ml", environment="dev", snapshot=False) as run:
        if with_data:
            client.load_dataset("customers@v1", workspace="ml", environment="dev", run_id=run.id)
        run.log_metric("acc", acc)
        model = LogisticRegression().fit(data[["a", "b", "c"]], data["y"])
        version: int = run.log_model(
            model, "churn", input_example=data[["a", "b", "c"]].head()
        ).version
    return version


@pytest.fixture
def team(client: Client, connector: Connector, tmp_path: Path) -> dict[str, Client]:
    client.apply(
        platform_spec(tmp_path / "lake", STAGING_GATES, [{"kind": "approval", "approvals": 2}])
    )
    people = {n: connector.as_principal(n) for n in ("alice", "bob", "carol", "dave")}
    people["alice"].register_dataset("customers", frame(), workspace="ml", environment="dev")
    return people


def settle(connector: Connector, client: Client, p: pm.PromotionInfo) -> pm.PromotionInfo:
    """What a worker makes of the promotion (a server's worker would do the same)."""
    Worker(connector.platform).run_once()
    return client.get_promotion(p.id)


def test_a_version_passes_its_gates_and_a_second_person_approves_it_into_staging(
    team: dict[str, Client], connector: Connector
) -> None:
    alice, carol = team["alice"], team["carol"]
    version = train(alice, 0.91)
    p = alice.promote(
        f"models:/churn/{version}", "staging", alias="champion", workspace="ml", wait=False,
        reason="best on holdout",
    )  # fmt: skip
    assert (p.status, p.source, p.target, p.requested_by) == ("checking", "dev", "staging", "alice")
    p = settle(connector, alice, p)
    assert p.status == "awaiting_approval"
    assert [(g.kind, g.status) for g in p.gates] == [
        ("metric", "passed"),
        ("policy", "passed"),
        ("approval", "waiting"),
    ]
    assert p.gates[0].evidence["checks"] == [
        {"require": "acc >= 0.8", "value": 0.91, "passed": True}
    ]
    assert "carol" not in {d.principal for d in p.decisions}
    # Nothing is in staging yet.
    with pytest.raises(NotFound):
        alice.get_model_version("models:/staging/churn@champion", workspace="ml")

    with pytest.raises(PermissionDenied, match="another pair of eyes"):
        alice.approve_promotion(p.id, wait=False)
    with pytest.raises(PermissionDenied, match=r"promotion\.approve"):
        team["bob"].approve_promotion(p.id, wait=False)
    carol.approve_promotion(p.id, "checked the gates", wait=False)
    with pytest.raises(Conflict, match=r"decided on promotion \d+ already"):
        carol.approve_promotion(p.id, wait=False)
    p = settle(connector, alice, p)
    assert p.status == "promoted", p.outcome
    assert p.gates[2].status == "passed"
    assert p.gates[2].evidence["approvers"][0]["principal"] == "carol"
    champion = alice.get_model_version("models:/staging/churn@champion", workspace="ml")
    assert champion.version == version
    # What was champion in staging at a time: nothing before the promotion, then this one.
    history = alice.alias_history("churn", environment="staging", workspace="ml")
    moved = history[-1].at
    before = alice.alias_history(
        "churn", environment="staging", at=moved - timedelta(seconds=1), workspace="ml"
    )
    assert before == []
    now = alice.alias_history("churn", environment="staging", at=moved, workspace="ml")
    assert [(e.alias, e.to_version, e.reason) for e in now] == [
        ("champion", version, f"promotion {p.id}")
    ]
    assert "staging" in champion.available_in

    admin = connector.local_admin
    trail = [
        a.action
        for a in admin.audit_events(workspace="ml", limit=50)
        if a.target == f"promotion:{p.id}"
    ]
    assert sorted(trail) == ["promotion.approve", "promotion.promote", "promotion.request"]
    kinds = [e.kind for e in admin.events(workspace="ml", kind="promotion.*")]
    assert kinds == ["promotion.requested", "promotion.approved"]
    assert [e.kind for e in admin.events(workspace="ml", kind="model_version.promoted")] == [
        "model_version.promoted"
    ]
    with pytest.raises(Conflict, match="takes no more decisions"):
        team["dave"].approve_promotion(p.id, wait=False)


def test_a_failed_gate_ends_the_promotion_and_changes_nothing(
    team: dict[str, Client], connector: Connector
) -> None:
    alice = team["alice"]
    version = train(alice, 0.55, with_data=False)
    p = settle(
        connector,
        alice,
        alice.promote(f"models:/churn/{version}", "staging", workspace="ml", wait=False),
    )
    assert p.status == "failed"
    assert "acc >= 0.8 does not hold (0.55)" in p.outcome
    assert "recorded no input dataset" in p.outcome
    assert alice.get_model_version(f"models:/churn/{version}", workspace="ml").available_in == [
        "dev"
    ]
    with pytest.raises(Conflict, match="takes no more decisions"):
        team["carol"].approve_promotion(p.id, wait=False)


def test_the_path_is_followed_one_step_at_a_time_and_bad_requests_change_nothing(
    team: dict[str, Client], unchanged: Unchanged
) -> None:
    alice, bob = team["alice"], team["bob"]
    version = train(alice, 0.9)
    uri = f"models:/churn/{version}"
    with unchanged(), pytest.raises(InvalidInput, match="one step at a time"):
        bob.promote(uri, "prod", workspace="ml", wait=False, source="dev")
    with unchanged(), pytest.raises(Conflict, match="not available in 'staging'"):
        bob.promote(uri, "prod", workspace="ml", wait=False)
    with unchanged(), pytest.raises(Conflict, match="available in 'dev' already"):
        bob.promote(uri, "dev", workspace="ml", wait=False)
    with unchanged(), pytest.raises(NotFound, match="no version 9"):
        bob.promote("models:/churn/9", "staging", workspace="ml", wait=False)
    with unchanged(), pytest.raises(PermissionDenied, match=r"promotion\.request"):
        team["carol"].promote(uri, "staging", workspace="ml", wait=False)
    first = alice.promote(uri, "staging", workspace="ml", wait=False)
    with unchanged(), pytest.raises(Conflict, match="under way"):
        alice.promote(uri, "staging", workspace="ml", wait=False)
    with unchanged(), pytest.raises(InvalidInput, match="comment"):
        team["carol"].reject_promotion(first.id, "")


def test_a_rejection_ends_the_promotion_with_its_reason(
    team: dict[str, Client], connector: Connector
) -> None:
    alice = team["alice"]
    version = train(alice, 0.9)
    p = settle(
        connector,
        alice,
        alice.promote(f"models:/churn/{version}", "staging", workspace="ml", wait=False),
    )
    rejected = team["carol"].reject_promotion(p.id, "not on a Friday")
    assert (rejected.status, rejected.outcome) == ("rejected", "rejected by carol: not on a Friday")
    p = settle(connector, alice, p)
    assert p.status == "rejected"
    assert alice.get_job(p.job_id or 0).status == "succeeded"
    assert alice.get_model_version(f"models:/churn/{version}", workspace="ml").available_in == [
        "dev"
    ]


def test_prod_needs_two_approvers_and_the_version_keeps_its_lineage(
    team: dict[str, Client], connector: Connector
) -> None:
    alice, bob = team["alice"], team["bob"]
    version = train(alice, 0.95)
    uri = f"models:/churn/{version}"
    p = settle(connector, alice, alice.promote(uri, "staging", workspace="ml", wait=False))
    team["carol"].approve_promotion(p.id, wait=False)
    assert settle(connector, alice, p).status == "promoted"
    to_prod = settle(
        connector, bob, bob.promote(uri, "prod", alias="champion", workspace="ml", wait=False)
    )
    assert to_prod.source == "staging"
    team["carol"].approve_promotion(to_prod.id, wait=False)
    to_prod = settle(connector, bob, to_prod)
    assert (to_prod.status, to_prod.gates[0].summary) == (
        "awaiting_approval",
        "1 of 2 approval(s) (each valid for 168 h)",
    )
    team["dave"].approve_promotion(to_prod.id, "second pair of eyes", wait=False)
    to_prod = settle(connector, bob, to_prod)
    assert to_prod.status == "promoted"
    prod = bob.get_model_version("models:/prod/churn@champion", workspace="ml")
    assert prod.version == version and prod.run_id is not None
    assert sorted(prod.available_in) == ["dev", "prod", "staging"]


def test_evaluation_and_champion_gates_rescore_on_the_targets_holdout(
    team: dict[str, Client], connector: Connector, tmp_path: Path
) -> None:
    gates = [
        {
            "kind": "evaluation",
            "dataset": "holdout@v1",
            "label": "y",
            "require": ["accuracy >= 0.9"],
        },
        {"kind": "champion", "dataset": "holdout@v1", "label": "y", "metric": "accuracy"},
    ]
    connector.local_admin.apply(platform_spec(tmp_path / "lake", gates, []))
    alice = team["alice"]
    holdout = frame().sample(80, random_state=1)
    alice.register_dataset("holdout", holdout, workspace="ml", environment="staging")
    good = train(alice, 0.9)
    p = settle(
        connector,
        alice,
        alice.promote(
            f"models:/churn/{good}", "staging", alias="champion", workspace="ml", wait=False
        ),
    )
    assert p.status == "promoted", p.outcome
    assert [g.status for g in p.gates] == ["passed", "passed"]
    assert p.gates[0].evidence["candidate"]["metrics"]["accuracy"] >= 0.9
    assert "nothing to beat" in p.gates[1].summary

    bad = train(alice, 0.99, wrong=True)  # logs a fine metric, but is not good on the holdout
    p = settle(
        connector,
        alice,
        alice.promote(
            f"models:/churn/{bad}", "staging", alias="champion", workspace="ml", wait=False
        ),
    )
    assert p.status == "failed"
    assert [g.status for g in p.gates] == ["failed", "failed"]
    assert "accuracy >= 0.9 does not hold" in p.outcome
    assert f"against @champion (version {good})" in p.gates[1].summary
    assert alice.get_model_version("models:/staging/churn@champion", workspace="ml").version == good


def test_the_model_card_gathers_what_a_reviewer_needs(
    team: dict[str, Client], connector: Connector
) -> None:
    from modelwright.promotions.card import render_html, render_markdown

    alice = team["alice"]
    version = train(alice, 0.93)
    alice.update_model(
        "churn",
        version=version,
        workspace="ml",
        tags={"card.intended_use": "rank customers <for> retention", "card.owners": "alice, bob"},
    )
    p = settle(
        connector,
        alice,
        alice.promote(
            f"models:/churn/{version}", "staging", alias="champion", workspace="ml", wait=False
        ),
    )
    team["carol"].approve_promotion(p.id, "fine", wait=False)
    settle(connector, alice, p)
    card = alice.model_card(f"models:/churn/{version}", workspace="ml")
    assert card.intended_use == "rank customers <for> retention"
    assert card.owners == ["alice", "bob"]
    assert card.metrics == {"acc": 0.93}
    assert [d["dataset"] for d in card.training_datasets] == ["dev/customers@v1"]
    assert [(p.target, p.status) for p in card.promotions] == [("staging", "promoted")]
    assert [e["alias"] for e in card.alias_history] == ["champion"]
    md = render_markdown(card)
    assert "## Promotions, gates and approvals" in md and "approve by carol" in md
    page = render_html(card)
    assert "rank customers &lt;for&gt; retention" in page and "<script" not in page


def test_a_gate_that_cannot_be_judged_fails_the_promotion_instead_of_blocking_it(
    team: dict[str, Client], connector: Connector, tmp_path: Path
) -> None:
    gates = [{"kind": "evaluation", "dataset": "nowhere@v1", "require": ["accuracy >= 0.5"]}]
    connector.local_admin.apply(platform_spec(tmp_path / "lake", gates, []))
    alice = team["alice"]
    uri = f"models:/churn/{train(alice, 0.9)}"
    p = settle(connector, alice, alice.promote(uri, "staging", workspace="ml", wait=False))
    assert p.status == "failed", p.outcome
    assert p.gates[0].status == "failed" and "could not be judged" in p.gates[0].summary
    assert "nowhere" in p.gates[0].summary
    # Nothing is left under way: the same version may be asked for again.
    again = alice.promote(uri, "staging", workspace="ml", wait=False)
    assert again.status == "checking"
