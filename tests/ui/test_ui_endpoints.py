"""The endpoint and rollout pages in Chromium: endpoints with their traffic, an endpoint's
deployments, serving figures and charts, live routing and changes; a rollout followed live
(its events, no reload) while an alarm rolls it back; over HTTP, a viewer's and a CSRF-less pause, resume
or abort refused with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from tests.ui.conftest import Seeded, sign_in, unlabelled_controls
from tests.ui.ops_seed import DEV, csrf_of, problems_of, served, train_churn, work
from tests.ui.test_ui_http import _signed_in

from modelwright.client import Client
from modelwright.core.platform import Platform

pytest.importorskip("sklearn")


@dataclass
class Rolling:
    seeded: Seeded
    rollout: int
    client: Client
    platform: Platform


@pytest.fixture
def rolling(
    seeded: Seeded,
    local_client: Client,
    platform: Platform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Rolling:
    """Endpoint churn in ml/dev: blue (v1) serving, a canary of green (v2) paused at 10% for
    want of requests."""
    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(tmp_path / "client-cache"))
    c = local_client
    train_churn(c)
    c.create_endpoint("churn", **DEV, description="who leaves")
    c.deploy("churn", "blue", "churn", 1, **DEV)
    served(c, "blue", ok=40, ms=4.0)
    r = c.start_rollout(
        "churn", "green", "models:/churn/2", steps=[10, 100], bake_seconds=0,
        alarms=["server_error_rate > 0.05"], reason="v2 is better", **DEV,
    )  # fmt: skip
    work(platform)
    assert c.get_rollout(r.id).status == "paused"
    return Rolling(seeded, r.id, c, platform)


def test_endpoints_show_traffic_figures_routing_and_rollouts(
    watched: Page, rolling: Rolling, shots: Path
) -> None:
    page = watched
    sign_in(page, rolling.seeded, rolling.seeded.admin_token, start="/w/ml/endpoints")
    row = page.locator("#endpoints-table tbody tr", has_text="churn")
    expect(row.locator(".tag")).to_have_text(["blue 90%", "green 10%"])
    expect(page.locator("#rollouts-table tbody tr")).to_contain_text("paused")
    page.screenshot(path=str(shots / "endpoints.png"), full_page=True, caret="initial")

    row.get_by_role("link", name="churn").click()
    expect(page.get_by_role("heading", name="churn dev")).to_be_visible()
    deployments = page.locator("#deployments-table tbody tr")
    expect(deployments).to_have_count(2)
    expect(deployments.nth(0)).to_contain_text("models:/churn/1")
    expect(deployments.nth(0)).to_contain_text("90%")
    blue = page.locator("#stats-table tbody tr", has_text="blue")
    expect(blue.locator("td").nth(1)).to_have_text("40")
    # The charts of the last hour: a line a deployment that served.
    for chart in page.locator(".chart[data-timeseries]").all():
        expect(chart.locator("canvas")).to_be_visible()
        expect(chart).to_have_attribute("data-count", "1")
    expect(page.locator("#routing-state")).to_contain_text("No router reported")
    changes = page.locator("#endpoint-history li")
    expect(changes.first).to_contain_text("green v2 10%")
    assert page.locator("main#main h1").count() == 1
    assert unlabelled_controls(page) == []
    page.screenshot(path=str(shots / "endpoint.png"), full_page=True, caret="initial")

    # An admin moves the traffic and mirrors nothing more: the page shows the new routing.
    page.get_by_text("Change traffic or shadow").click()
    page.get_by_label("blue %").fill("70")
    page.get_by_label("green %").fill("30")
    page.get_by_role("button", name="Set traffic").click()
    expect(deployments.nth(0)).to_contain_text("70%")
    expect(deployments.nth(1)).to_contain_text("30%")
    expect(changes.first).to_contain_text("blue v1 70%")


def test_a_rollout_page_follows_the_rollback_without_reloading(
    page: Page, rolling: Rolling, shots: Path
) -> None:
    # As ``watched``, but the page closes its event stream once the rollout ended, which the
    # browser reports as an aborted request: that one alone may "fail".
    problems = problems_of(page)
    sign_in(page, rolling.seeded, rolling.seeded.admin_token, start="/w/ml/endpoints")
    page.get_by_role("link", name=f"#{rolling.rollout}").click()
    live = page.locator("#rollout-live")
    expect(live).to_have_attribute("data-status", "paused")
    # The page follows the platform's events (no polling): connected before anything changes.
    expect(live).to_have_attribute("data-following", "1")
    expect(page.locator("#rollout-history")).to_contain_text("no data")
    page.get_by_role("button", name="Resume").click()
    expect(live).to_have_attribute("data-status", "running")
    page.evaluate("window.unreloaded = true")

    # The canary answers with errors; the worker judges the step and rolls back.
    served(rolling.client, "green", ok=18, server=2)
    work(rolling.platform)
    expect(live).to_have_attribute("data-status", "rolled_back", timeout=15_000)
    assert page.evaluate("window.unreloaded") is True
    expect(page.locator("#rollout-outcome")).to_contain_text("server_error_rate > 0.05 (was 0.1)")
    expect(page.locator("#rollout-history tbody tr", has_text="alarm")).to_contain_text("20")
    expect(page.locator("#rollout-weight")).to_have_text("0%")
    # Ended: nothing more to follow, no more actions.
    assert live.get_attribute("data-events") is None
    expect(page.get_by_role("button", name="Abort and roll back")).to_have_count(0)
    page.screenshot(path=str(shots / "rollout.png"), full_page=True, caret="initial")
    stream = f"{rolling.seeded.url}/events/stream?kind=rollout.changed&workspace=ml&environment=dev"
    assert [p for p in problems if p != f"{stream}: net::ERR_ABORTED"] == [], problems
    assert {d.name: d.weight for d in rolling.client.get_endpoint("churn", **DEV).deployments} == {
        "blue": 100
    }


def _state(rolling: Rolling) -> tuple[object, ...]:
    r = rolling.client.get_rollout(rolling.rollout)
    e = rolling.client.get_endpoint("churn", **DEV)
    return r.status, r.weight, r.updated_at, e.generation


def _forms(rolling: Rolling) -> list[tuple[str, dict[str, str]]]:
    """Every form of the endpoint and rollout pages: where it posts and what it sends."""
    one = f"/rollouts/{rolling.rollout}"
    return [
        (f"{one}/pause", {}),
        (f"{one}/resume", {}),
        (f"{one}/abort", {}),
        ("/w/ml/endpoints/dev/churn/traffic", {"weight.blue": "0", "weight.green": "100"}),
        ("/w/ml/endpoints/dev/churn/shadow", {"deployment": "", "percent": "100"}),
    ]


def test_a_viewer_and_a_post_without_csrf_change_nothing(rolling: Rolling) -> None:
    seeded, before = rolling.seeded, _state(rolling)
    origin = {"Origin": seeded.url}
    with _signed_in(seeded, seeded.viewer_token) as http:
        page = http.get(f"/rollouts/{rolling.rollout}")
        assert page.status_code == 200 and "Resume" in page.text
        assert "Set traffic" in http.get("/w/ml/endpoints/dev/churn").text
        csrf = csrf_of(page.text)
        for path, form in _forms(rolling):
            r = http.post(path, data={"csrf": csrf, **form}, headers=origin)
            assert r.status_code == 403, (path, r.text)
            assert "principal &#39;vera&#39; may not" in r.text
            assert _state(rolling) == before
    with _signed_in(seeded, seeded.admin_token) as http:
        for path, form in _forms(rolling):
            r = http.post(path, data=form, headers=origin)
            assert r.status_code == 403 and "CSRF" in r.text, path
            assert _state(rolling) == before
        # The service's word on a wrong change, on the page.
        csrf = csrf_of(http.get("/w/ml/endpoints/dev/churn").text)
        weights = {"csrf": csrf, "weight.blue": "70", "weight.green": "20"}
        r = http.post("/w/ml/endpoints/dev/churn/traffic", data=weights, headers=origin)
        assert r.status_code == 400 and "weights: must sum to 100, got 90" in r.text
        shadow = {"csrf": csrf, "deployment": "blue", "percent": "50"}
        r = http.post("/w/ml/endpoints/dev/churn/shadow", data=shadow, headers=origin)
        assert r.status_code == 409 and "takes 90% of the live traffic" in r.text
        assert _state(rolling) == before
        r = http.get("/w/ml/endpoints/dev/churn/series", params={"measure": "fun"})
        assert r.status_code == 400 and "measure" in r.text
        assert http.get("/rollouts/999").status_code == 404
    with _signed_in(seeded, seeded.outsider_token) as http:
        for path in [
            "/w/ml/endpoints",
            "/w/ml/endpoints/dev/churn",
            "/w/ml/endpoints/dev/churn/series",
            f"/rollouts/{rolling.rollout}",
            f"/rollouts/{rolling.rollout}/live",
        ]:
            r = http.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert "green" not in r.text, path


def test_the_pages_event_stream_needs_a_session_and_shows_what_it_may_read(
    rolling: Rolling,
) -> None:
    seeded = rolling.seeded
    path = "/events/stream?kind=rollout.changed&workspace=ml&environment=dev"
    with httpx.Client(base_url=seeded.url) as anon:
        assert anon.get(path).status_code == 401
    with _signed_in(seeded, seeded.viewer_token) as http, http.stream("GET", path) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.iter_lines()
        event = next(line for line in lines if line.startswith("event:"))
        assert event == "event: rollout.changed"
        assert f'"subject":"rollout/{rolling.rollout}"' in next(lines)
    with _signed_in(seeded, seeded.outsider_token) as http:
        assert http.get(path).status_code in (403, 404)
