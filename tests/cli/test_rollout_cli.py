"""``rollout start/status/list/abort`` and ``lineage --impact`` as a user types them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.cli.conftest import Run
from tests.endpoints.conftest import register_churn

import modelwright
from modelwright.endpoints.stats_models import BUCKETS, RecordServingStats, StatsRow
from modelwright.workflows import Worker

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


def test_status_shows_each_step_and_the_routing_check(cli: Run, home: Path) -> None:
    with modelwright.connect(home) as admin:
        register_churn(admin)
        admin.create_endpoint("churn", workspace="ml", environment="dev")
        admin.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    scope = ["-w", "ml", "-e", "dev"]
    started = cli("rollout", "start", "churn", "models:/churn/2", "-d", "green",
                  "--strategy", "all-at-once", "--bake", "1s", *scope)  # fmt: skip
    assert started.code == 0, started.err
    with modelwright.connect(home) as admin:
        worker = Worker(admin.transport.local_platform)  # type: ignore[arg-type]
        worker.run_once()
        time.sleep(1.1)
        worker.run_once()  # judged: no request reached green, so paused
        shown = cli("rollout", "status", "1")
        assert shown.code == 0 and "no data" in shown.out and "paused" in shown.out
        assert cli("rollout", "resume", "1").code == 0
        end = datetime.now(UTC)
        admin.record_serving_stats(
            RecordServingStats(
                workspace="ml", environment="dev", router="r", seq=1,
                started_at=end - timedelta(seconds=1), ended_at=end,
                rows=[StatsRow(endpoint="churn", deployment="green", requests=3,
                               latency_sum_ms=3.0, latency_buckets=[3] + [0] * (BUCKETS - 1))],
            )
        )  # fmt: skip
        worker.run_once()  # woken by the resume: bakes again
        time.sleep(1.1)
        worker.run_once()
    done = cli("rollout", "status", "1")
    assert done.code == 0, done.err
    assert "succeeded" in done.out and "routing unobserved" in done.out
