"""A monitor's report: a histogram per feature from the baseline and the captured window,
drift over time, quality and alerts, in one page that needs no network and keeps every
value inert."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import Connector
from tests.monitoring.monitor_data import FEATURES, capture, customers, records
from tests.monitoring.test_monitors import WHERE, evaluate, lake  # noqa: F401 (a fixture)

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound
from modelwright.monitors.models import MonitorDetail
from modelwright.monitors.report import MonitorReport, histograms, render_html

pytest.importorskip("sklearn")


def test_the_report_draws_every_feature_and_opens_without_network(
    lake: Path,  # noqa: F811
    client: Client,
    connector: Connector,
) -> None:
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    client.add_alert_rule("watch", "drifting", when="drift.share >= 0.5", **WHERE)
    capture(lake, records(customers(200, seed=5, shift=2.0)), per_request=4)
    evaluate(client, connector)
    page, data = client.monitor_report("watch", **WHERE)
    assert [h.feature for h in data.histograms] == FEATURES
    # Read where the platform runs: through a server as embedded, the window is drawn.
    assert (data.reference_rows, data.current_rows, data.notes) == (400, 200, [])
    for h in data.histograms:
        assert sum(h.reference) == pytest.approx(1.0) and sum(h.current) == pytest.approx(1.0)
    assert data.histograms == connector.local_admin.monitor_report("watch", **WHERE)[1].histograms
    assert "400 baseline row(s) against 200 captured row(s)" in page
    assert page.count('class="histogram"') == len(FEATURES)
    for name in FEATURES:
        assert f"<figcaption>{name} (" in page
    assert "Drift over time" in page and 'class="series"' in page
    assert "<td>drifting</td>" in page  # the rule and its state
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?:""", page, re.I)
    assert "<script" not in page.lower()


def test_every_value_is_escaped() -> None:
    bad = "<script>alert(1)</script>"
    ref = pd.DataFrame({bad: [1.0, 2.0, 3.0], "c": ["<b>", "x", "y"]})
    hist = histograms(ref, ref.head(1), [bad, "c"])
    monitor = MonitorDetail(
        id=1, workspace="ml", environment="dev", name=bad, endpoint=bad, baseline="b@v1",
        window_seconds=60, schedule=None, signals=["drift"], thresholds={}, description="",
        created_by="x", created_at=datetime(2026, 1, 1, tzinfo=UTC), last_evaluated_at=None,
        status=None, latest=[],
    )  # fmt: skip
    page = render_html(
        MonitorReport(monitor=monitor, since="s", until="u", histograms=hist, history=[],
                      rules=[], transitions=[])
    )  # fmt: skip
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>" not in page


def test_a_reader_sees_what_its_grants_allow_and_bad_windows_are_refused(
    lake: Path,  # noqa: F811
    client: Client,
    connector: Connector,
) -> None:
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    capture(lake, records(customers(50, seed=5)))
    evaluate(client, connector)
    _, seen = connector.as_principal("vera").monitor_report("watch", window_seconds=600, **WHERE)
    assert seen.current_rows == 50 and seen.notes == []
    client.create_principal("olga")
    olga = connector.as_principal("olga")
    with pytest.raises(NotFound, match=r"'ml'|monitor 'watch'"):
        olga.monitor_report("watch", **WHERE)
    # May read the monitor (it deploys there) but not the data: the histograms are left out.
    client.create_role("deployer", actions=["endpoint.deploy"])
    client.grant("olga", "deployer", workspace="ml", environment="dev")
    page, data = olga.monitor_report("watch", **WHERE)
    assert data.rules == [] and data.current_rows == data.reference_rows == 0
    assert all(sum(h.reference) == sum(h.current) == 0 for h in data.histograms)
    assert data.notes and "data.read" in data.notes[0] and "data.read" in page
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="since: must come before until"):
        client.monitor_report("watch", since=now, until=now, **WHERE)
    with pytest.raises(InvalidInput, match="more than 90 days"):
        client.monitor_report("watch", since=datetime(2020, 1, 1, tzinfo=UTC), **WHERE)
