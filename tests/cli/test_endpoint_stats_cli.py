"""``modelwright endpoint stats``: a table per deployment, a series per step, JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.conftest import Run
from tests.endpoints.test_serving_stats import row

import modelwright
from modelwright.endpoints.stats_models import RecordServingStats


def test_endpoint_stats(cli: Run, home: Path) -> None:
    end = datetime.now(UTC) - timedelta(minutes=2)
    with modelwright.connect(home) as client:
        client.create_workspace("ml")
        client.create_endpoint("churn", workspace="ml", environment="dev")
        for router, rows in (
            ("a", [row("blue", ok=90, client=4, server=5, shed=1), row("green", ok=10)]),
            ("b", [row("blue", ok=100, ms=300), row(None, client=2)]),
        ):
            client.record_serving_stats(
                RecordServingStats(
                    workspace="ml",
                    environment="dev",
                    router=router,
                    seq=1,
                    started_at=end - timedelta(seconds=5),
                    ended_at=end,
                    rows=rows,
                )
            )
    r = cli("endpoint", "stats", "churn", "-w", "ml", "-e", "dev")
    assert r.code == 0, r.err
    assert "Serving stats of ml/dev/churn" in r.out
    lines = {line.split("│")[1].strip(): line for line in r.out.splitlines() if "│" in line}
    blue = [c.strip() for c in lines["blue"].split("│")[1:-1]]
    assert blue[:6] == ["blue", "200", "4", "5", "1", "5.00%"]
    assert blue[-1] == "2"  # routers
    assert "(none)" in lines and "total" in lines

    r = cli(
        "endpoint", "stats", "churn", "-w", "ml", "-e", "dev", "--deployment", "green", "--json"
    )
    assert r.code == 0, r.err
    found = json.loads(r.out)
    assert [(d["deployment"], d["requests"]) for d in found["deployments"]] == [("green", 10)]

    r = cli("endpoint", "stats", "churn", "-w", "ml", "-e", "dev", "--since", "1m")
    assert r.code == 0, r.err
    assert "no requests recorded in this window" in r.out

    r = cli("endpoint", "stats", "churn", "-w", "ml", "-e", "dev", "--step", "1h", "--json")
    assert r.code == 0, r.err
    points = json.loads(r.out)["points"]
    assert sum(p["requests"] for p in points) == 100 + 100 + 10 + 2
    r = cli("endpoint", "stats", "churn", "-w", "ml", "-e", "dev", "--step", "10m")
    assert r.code == 0 and "every 10m" in r.out and "green" in r.out

    r = cli("endpoint", "stats", "churn", "-w", "ml", "-e", "dev", "--step", "soon")
    assert r.code == 1 and "--step: expected a duration" in r.err
