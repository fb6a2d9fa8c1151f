"""The monitor pages in Chromium: the list, a monitor's latest values, each signal over time
a line a feature (drift drawn after two evaluations), reference-versus-current histograms and
alerts; over HTTP, a viewer's and a CSRF-less evaluation refused with nothing started."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.monitoring.monitor_data import FEATURES, capture, customers, records
from tests.ui.conftest import Seeded, sign_in, unlabelled_controls
from tests.ui.ops_seed import DEV, csrf_of, work
from tests.ui.test_ui_http import _signed_in

from modelwright.client import Client
from modelwright.core.platform import Platform

pytest.importorskip("sklearn")


@dataclass
class Watched:
    seeded: Seeded
    client: Client
    platform: Platform


def evaluate(c: Client, platform: Platform) -> None:
    run = c.run_monitor("watch", wait=False, **DEV)
    work(platform)
    assert c.get_job(run.job_id).status == "succeeded"


@pytest.fixture
def watching(
    seeded: Seeded,
    local_client: Client,
    platform: Platform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Watched:
    """Monitor watch of endpoint churn in ml/dev against customers@v1, with an alert rule on
    drift, evaluated twice: on traffic like the baseline, then on traffic shifted away."""
    from sklearn.dummy import DummyClassifier

    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(tmp_path / "client-cache"))
    c = local_client
    lake = tmp_path / "home" / "data" / "lake"
    c.create_datastore("ml", "dev", "lake", str(lake))
    base = customers()
    c.register_dataset("customers", base, **DEV)
    with c.start_run("churn", **DEV, snapshot=False) as run:
        model = DummyClassifier().fit(base[FEATURES], base["churned"])
        run.log_model(model, "churn", input_example=base[FEATURES].head())
    c.create_endpoint("churn", **DEV)
    c.deploy("churn", "blue", "churn", 1, **DEV)
    c.create_monitor(
        "watch", endpoint="churn", baseline="customers@v1", description="churn inputs", **DEV
    )
    c.add_alert_rule("watch", "drifting", when="drift.share >= 0.3", sinks=[{"kind": "log"}], **DEV)
    capture(lake, records(customers(200, seed=3)), per_request=4)
    evaluate(c, platform)
    capture(lake, records(customers(400, seed=5, shift=2.0)), per_request=4)
    evaluate(c, platform)
    return Watched(seeded, c, platform)


def test_a_monitor_draws_drift_over_time_histograms_and_alerts(
    watched: Page, watching: Watched, shots: Path
) -> None:
    page = watched
    sign_in(page, watching.seeded, watching.seeded.admin_token, start="/w/ml/monitors")
    row = page.locator("#monitors-table tbody tr", has_text="watch")
    expect(row.locator(".status")).to_have_text("alert")
    row.get_by_role("link", name="watch").click()
    expect(page.get_by_role("heading", name="watch dev")).to_be_visible()
    latest = page.locator("#latest-table tbody")
    expect(latest.get_by_role("row", name="drift drift tenure")).to_contain_text("alert")

    # Drift over time: a line a feature, a point an evaluation.
    drift = page.locator(".chart[data-label='drift drift']")
    expect(drift.locator("canvas")).to_be_visible()
    expect(drift).to_have_attribute("data-count", str(len(FEATURES)))
    share = page.locator(".chart[data-label='drift drift_share']")
    expect(share.locator("canvas")).to_be_visible()
    expect(share).to_have_attribute("data-count", "1")
    for name in FEATURES:
        figure = page.get_by_role("img", name=f"Histogram of {name}: reference against current")
        expect(figure.locator("rect.bar.ref").first).to_be_attached()
        expect(figure.locator("rect.bar.cur").first).to_be_attached()

    rule = page.locator("#rules-table tbody tr", has_text="drifting")
    expect(rule).to_contain_text("firing")
    expect(page.locator("#alert-history li").first).to_contain_text("firing drifting")
    assert unlabelled_controls(page) == []
    page.screenshot(path=str(shots / "monitor.png"), full_page=True, caret="initial")


def test_a_viewer_and_a_post_without_csrf_evaluate_nothing(watching: Watched) -> None:
    seeded = watching.seeded
    one = "/w/ml/monitors/dev/watch"
    origin = {"Origin": seeded.url}

    def evaluations() -> int:
        return len(watching.client.list_jobs(workspace="ml", limit=1000))

    before = evaluations()
    with _signed_in(seeded, seeded.viewer_token) as http:
        page = http.get(one)
        assert page.status_code == 200 and "Evaluate now" in page.text
        r = http.post(f"{one}/run", data={"csrf": csrf_of(page.text)}, headers=origin)
        assert r.status_code == 403 and "vera" in r.text
        assert evaluations() == before
        series = http.get(f"{one}/series", params={"signal": "drift", "metric": "drift"}).json()
        assert len(series["x"]) == 2
        assert sorted(s["label"] for s in series["series"]) == sorted(FEATURES)
    with _signed_in(seeded, seeded.admin_token) as http:
        r = http.post(f"{one}/run", data={}, headers=origin)
        assert r.status_code == 403 and "CSRF" in r.text
        assert evaluations() == before
        r = http.get(f"{one}/series", params={"signal": "mood"})
        assert r.status_code == 400 and "signal" in r.text
        assert http.get("/w/ml/monitors/dev/nope").status_code == 404
    with _signed_in(seeded, seeded.outsider_token) as http:
        r = http.get("/w/ml/monitors")
        assert "watch" not in r.text.replace("/watch", "")
        for path in [one, f"{one}/series"]:
            r = http.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert "tenure" not in r.text, path
