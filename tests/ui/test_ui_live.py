"""Live state in Chromium: a running run's page follows the run to its end without a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.ui.conftest import Seeded, sign_in

from modelwright.client import Client


def test_a_running_run_page_shows_its_end_without_a_reload(
    watched: Page, seeded: Seeded, local_client: Client
) -> None:
    page = watched
    run_id = seeded.run_ids["still-going"]
    sign_in(page, seeded, seeded.admin_token, start=f"/runs/{run_id}")
    state = page.locator("#run-state")
    expect(state.locator(".status")).to_have_text("running")
    expect(page.get_by_role("button", name="Kill this run")).to_be_visible()
    # A mark on this document: a reload would make another without it.
    page.evaluate("() => { window.stillHere = true }")

    local_client.end_run(run_id, status="failed", error="ValueError: out of data")

    expect(state.locator(".status")).to_have_text("failed", timeout=15_000)
    expect(state).to_contain_text("ValueError: out of data")
    expect(state.locator("dt", has_text="Ended")).to_be_visible()
    expect(page.get_by_role("button", name="Kill this run")).to_have_count(0)
    assert page.evaluate("() => window.stillHere") is True
    # An ended run is not asked for again.
    expect(state).not_to_have_attribute("hx-trigger", "every 2s")
