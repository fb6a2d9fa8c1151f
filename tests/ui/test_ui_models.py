"""The model pages in Chromium: the list, a model (versions with their runs' metrics, aliases
per environment, the leaderboard, the alias history as a timeline), a version (signature,
requirements, lineage) with its card in a sandboxed frame; over HTTP, no model or dataset
page for a principal without a grant in the workspace."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.ui.conftest import Catalog, sign_in, unlabelled_controls
from tests.ui.test_ui_http import _signed_in


def test_the_models_list_shows_each_model_with_its_versions_and_aliases(
    watched: Page, catalog: Catalog, shots: Path
) -> None:
    page = watched
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start="/")
    page.get_by_role("link", name="Models of ml").click()
    expect(page.get_by_role("heading", name="Models")).to_be_visible()
    row = page.locator("#models-table tbody tr", has_text="churner")
    expect(row.get_by_role("link", name="churner v1")).to_be_visible()
    expect(row.get_by_role("link", name="churner v2")).to_be_visible()
    expect(row.locator(".tag")).to_have_text("dev @champion → v2")
    page.screenshot(path=str(shots / "models.png"), full_page=True, caret="initial")
    row.get_by_role("link", name="churner", exact=True).click()
    expect(page.get_by_role("heading", name="churner")).to_be_visible()


def test_a_model_shows_metrics_aliases_leaderboard_and_alias_history(
    watched: Page, catalog: Catalog, shots: Path
) -> None:
    page = watched
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start="/w/ml/models/churner")
    versions = page.locator("#versions-table tbody tr")
    expect(versions).to_have_count(2)
    # Each version with the metrics its run logged.
    expect(versions.nth(0).locator("td.num")).to_have_text("0.84")
    expect(versions.nth(1).locator("td.num")).to_have_text("0.91")
    expect(page.locator("#aliases-table")).to_contain_text("dev")
    expect(page.locator("#aliases-table")).to_contain_text("@champion → v2")
    # The leaderboard, best first.
    board = page.locator("#leaderboard tbody tr td:nth-child(2)")
    expect(board).to_have_text(["v2", "v1"])
    page.get_by_label("Environment").select_option("dev")
    page.get_by_role("button", name="Rank").click()
    expect(page).to_have_url(re.compile(r"environment=dev"))
    expect(board).to_have_text(["v2", "v1"])
    # What was champion when: oldest move first, with the reasons given.
    moves = page.locator("#alias-history li")
    expect(moves).to_have_count(2)
    expect(moves.nth(0)).to_contain_text("– → v1")
    expect(moves.nth(0)).to_contain_text("by admin: first")
    expect(moves.nth(1)).to_contain_text("v1 → v2")
    expect(moves.nth(1)).to_contain_text("by admin: better")
    page.screenshot(path=str(shots / "model.png"), full_page=True, caret="initial")


def test_versions_come_a_page_at_a_time_and_every_control_is_labelled(
    watched: Page, catalog: Catalog
) -> None:
    page = watched
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start="/w/ml/models/churner?limit=1")
    first = page.locator("#versions-table tbody tr td:first-child")
    expect(first).to_have_text(["v1"])
    page.get_by_role("navigation", name="Pages of versions").get_by_role(
        "link", name="Next page"
    ).click()
    expect(first).to_have_text(["v2"])
    assert "limit=1" in page.url  # the page size is kept
    for path in [
        "/w/ml/models",
        "/w/ml/models/churner",
        "/w/ml/models/churner/versions/1",
        "/w/ml/datasets",
        "/w/ml/datasets/dev/customers",
        "/w/ml/datasets/dev/customers/2?against=v1",
    ]:
        # Settled before the next: leaving a page aborts what it still loads (its icon).
        page.goto(catalog.seeded.url + path, wait_until="networkidle")
        assert unlabelled_controls(page) == [], path
        assert page.locator("main#main h1").count() == 1, path


def test_a_version_shows_signature_requirements_lineage_and_its_card(
    watched: Page, catalog: Catalog
) -> None:
    page = watched
    start = "/w/ml/models/churner/versions/2"
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start=start)
    expect(page.get_by_role("heading", name="churner v2")).to_be_visible()
    inputs = page.locator("#signature-inputs")
    expect(inputs.get_by_role("row", name="age integer int64")).to_be_visible()
    expect(inputs.get_by_role("row", name="income float float64")).to_be_visible()
    expect(page.locator("#requirements")).to_contain_text("scikit-learn==")
    lineage = page.locator("#lineage")
    expect(lineage.get_by_role("link", name="dev/customers@v2")).to_have_attribute(
        "href", "/w/ml/datasets/dev/customers/2"
    )
    expect(lineage.get_by_role("link", name=catalog.train_run[:8])).to_be_visible()
    # The card runs nothing: a frame with every sandbox restriction.
    frame = page.locator("iframe.card")
    expect(frame).to_have_attribute("sandbox", "")
    card = page.frame_locator("iframe.card")
    expect(card.get_by_role("heading", name="Model card: models:/churner/2")).to_be_visible()
    expect(card.locator("body")).to_contain_text("dev/customers@v2")


def test_a_principal_without_a_grant_gets_no_model_or_dataset_page(catalog: Catalog) -> None:
    pages = [
        "/w/ml/models",
        "/w/ml/models/churner",
        "/w/ml/models/churner/versions/2",
        "/w/ml/models/churner/versions/2/card.html",
        "/w/ml/models/churner/versions/2/card.md",
        "/w/ml/datasets",
        "/w/ml/datasets/dev/customers",
        "/w/ml/datasets/dev/customers/2",
        "/w/ml/datasets/dev/customers/2?against=v1",
        f"/w/ml/runs/{catalog.train_run}/lineage",
    ]
    with _signed_in(catalog.seeded, catalog.seeded.outsider_token) as http:
        for path in pages:
            r = http.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert "churner" not in r.text.replace("/churner", ""), path
            assert "customers@" not in r.text, path
    with _signed_in(catalog.seeded, catalog.seeded.admin_token) as http:
        for path in pages:
            assert http.get(path).status_code == 200, path
        card = http.get("/w/ml/models/churner/versions/2/card.html")
        assert "sandbox" in card.headers["content-security-policy"]
        assert "script-src" not in card.headers["content-security-policy"]
        # A bad page size is named, not a traceback.
        r = http.get("/w/ml/models", params={"limit": "lots"})
        assert r.status_code == 400
        assert "limit" in r.text
        r = http.get("/w/ml/models/churner/versions/7")
        assert r.status_code == 404
        assert "churner" in r.text
        # A version that is not there to compare with is said so; the page stays.
        r = http.get("/w/ml/datasets/dev/customers/2", params={"against": "v9"})
        assert r.status_code == 404
        assert 'role="alert"' in r.text
        assert "Histogram of age" in r.text
        r = http.get("/w/ml/datasets/dev/customers/2", params={"against": "yesterday"})
        assert r.status_code == 400
        assert "(got &#39;yesterday&#39;)" in r.text
