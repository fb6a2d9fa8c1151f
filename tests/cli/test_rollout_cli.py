"""``rollout start/status/list/abort`` and ``lineage --impact`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Run
from tests.endpoints.conftest import register_churn

import modelwright

pytest.importorskip("sklearn")


def test_start_show_and_abort_a_rollout(cli: Run, home: Path) -> None:
    with modelwright.connect(home) as admin:
        register_churn(admin)
        admin.create_endpoint("churn", workspace="ml", environment="dev")
        admin.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    scope = ["-w", "ml", "-e", "dev"]
    bad = cli("rollout", "start", "churn", "models:/churn/2", "-d", "green",
              "--alarm", "p98_ms > 1", *scope)  # fmt: skip
    assert bad.code == 1 and "unknown signal 'p98_ms'" in bad.err
    started = cli("rollout", "start", "churn", "models:/churn/2", "-d", "green",
                  "--steps", "10,100", "--bake", "1h", *scope)  # fmt: skip
    assert started.code == 0, started.err
    assert "replacing blue" in started.out and "modelwright rollout status 1" in started.out
    listed = cli("rollout", "list", "--endpoint", "churn")
    assert "green" in listed.out and "running" in listed.out
    aborted = cli("rollout", "abort", "1", "--json")
    assert aborted.code == 0, aborted.err
    assert json.loads(aborted.out)["status"] == "aborted"
    assert "aborted already" in cli("rollout", "abort", "1").err


def test_lineage_impact_from_the_command_line(cli: Run, home: Path) -> None:
    with modelwright.connect(home) as admin:
        register_churn(admin, versions=1)
    out = cli("lineage", "model:churn/1", "-w", "ml", "--impact")
    assert out.code == 0, out.err
    assert "Impact of model churn/v1" in out.out and "derived datasets: none" in out.out
