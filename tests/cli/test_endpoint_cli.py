from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.cli.conftest import Run
from tests.endpoints.conftest import register_churn

import modelwright

pytest.importorskip("sklearn")


def test_endpoint_commands(cli: Run, home: Path) -> None:
    with modelwright.connect(home) as client:
        register_churn(client)
    r = cli("endpoint", "create", "churn", "--env", "dev", "--description", "scores")
    assert r.code == 0, r.err
    r = cli("endpoint", "deploy", "churn", "blue", "models:/churn/1", "--env", "dev")
    assert r.code == 0 and "blue" in r.out and "100%" in r.out, r.err
    r = cli(
        "endpoint",
        "deploy",
        "churn",
        "green",
        "models:/churn/2",
        "--workers",
        "2",
        "--max-batch-size",
        "4",
        "--capture-rate",
        "0.5",
    )
    assert r.code == 0, r.err
    r = cli("endpoint", "traffic", "churn", "blue=80", "green=20", "--json")
    assert r.code == 0, r.err
    weights = {d["name"]: d["weight"] for d in json.loads(r.out)["deployments"]}
    assert weights == {"blue": 80, "green": 20}
    r = cli("endpoint", "deploy", "churn", "shadow", "models:/churn/2")
    assert cli("endpoint", "shadow", "churn", "shadow", "--percent", "30").code == 0
    r = cli("endpoint", "show", "churn", "--json")
    shown = json.loads(r.out)
    assert shown["shadow"] == "shadow" and shown["shadow_percent"] == 30
    assert [d["config"]["workers"] for d in shown["deployments"]] == [1, 2, 1]
    r = cli("endpoint", "list")
    assert r.code == 0 and "blue=models:/churn/1 80%" in r.out and "shadow 30%" in r.out

    r = cli("endpoint", "traffic", "churn", "blue=50", "green=20")
    assert r.code == 1 and "must sum to 100, got 70" in r.err and r.err.count("\n") == 1
    r = cli("endpoint", "traffic", "churn", "blue")
    assert r.code == 1 and "expected DEPLOYMENT=PERCENT" in r.err
    r = cli("endpoint", "deploy", "churn", "red", "models:/churn@champion")
    assert r.code == 1 and "alias 'champion'" in r.err
    assert cli("model", "alias", "set", "churn", "champion", "2").code == 0
    r = cli("endpoint", "deploy", "churn", "red", "models:/churn@champion", "--json")
    assert r.code == 0, r.err
    assert [d["version"] for d in json.loads(r.out)["deployments"] if d["name"] == "red"] == [2]
    assert cli("endpoint", "undeploy", "churn", "red").code == 0
    r = cli("endpoint", "deploy", "churn", "red", "models:/churn/1", "--env", "prod")
    assert r.code == 1 and "endpoint 'churn' not found in ml/prod" in r.err
    cli("endpoint", "create", "churn", "--env", "prod")
    r = cli("endpoint", "deploy", "churn", "red", "models:/churn/1", "--env", "prod")
    assert r.code == 1 and "not available in environment 'prod'" in r.err
    assert cli("endpoint", "shadow", "churn", "--off").code == 0
    assert cli("endpoint", "shadow", "churn").code == 1
    assert cli("endpoint", "undeploy", "churn", "shadow").code == 0
    r = cli("endpoint", "delete", "churn")
    assert r.code == 0 and "deleted endpoint ml/dev/churn" in r.out
    r = cli("endpoint", "list", "--json")
    assert [e["environment"] for e in json.loads(r.out)] == ["prod"]


def test_endpoint_history_at_a_time(cli: Run, home: Path) -> None:
    with modelwright.connect(home) as admin:
        register_churn(admin)
        admin.create_endpoint("churn", workspace="ml", environment="dev")
        admin.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
        time.sleep(0.01)
        then = datetime.now(UTC).isoformat()
        time.sleep(0.01)
        admin.deploy("churn", "green", "churn", 2, workspace="ml", environment="dev")
        admin.set_traffic("churn", {"green": 100}, workspace="ml", environment="dev")
    scope = ["-w", "ml", "-e", "dev"]
    at = cli("endpoint", "history", "churn", "--at", then, *scope)
    assert at.code == 0, at.err
    assert "models:/churn/1" in at.out and "100%" in at.out and "churn/2" not in at.out
    full = cli("endpoint", "history", "churn", *scope)
    assert full.code == 0, full.err
    assert "traffic" in full.out and "green v2 100%" in full.out and "create" in full.out
    early = cli("endpoint", "history", "churn", "--at", "2000-01-01T00:00", *scope)
    assert "did not exist" in early.out
    bad = cli("endpoint", "history", "churn", "--at", "yesterday", *scope)
    assert bad.code != 0 and "--at" in bad.err


def test_endpoint_routing_says_when_routers_differ(cli: Run, home: Path) -> None:
    from modelwright.endpoints.routing_models import ReportRouting, RouteReport

    with modelwright.connect(home) as admin:
        register_churn(admin)
        admin.create_endpoint("churn", workspace="ml", environment="dev")
        ep = admin.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    scope = ["-w", "ml", "-e", "dev"]
    assert "unobserved" in cli("endpoint", "routing", "churn", *scope).out
    with modelwright.connect(home) as admin:
        admin.report_routing(
            ReportRouting(
                workspace="ml",
                environment="dev",
                router="r1",
                interval=5,
                endpoints=[RouteReport(endpoint="churn", generation=ep.generation - 1, weights={})],
            )
        )
    lagging = cli("endpoint", "routing", "churn", *scope)
    assert lagging.code == 1 and "differs" in lagging.out and "r1" in lagging.out
