"""The dataset pages in Chromium: datasets per environment, a version's schema, profile
(histograms and value counts drawn by the server) and diff against another version, and the
lineage from a dataset to the run that read it and the model version it made."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.ui.conftest import Catalog, sign_in


def test_datasets_are_listed_per_environment(watched: Page, catalog: Catalog) -> None:
    page = watched
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start="/w/ml/runs")
    page.get_by_role("navigation", name="ml").get_by_role("link", name="Datasets").click()
    row = page.locator("#datasets-table tbody tr", has_text="customers")
    expect(row.locator("td").nth(0)).to_have_text("dev")
    expect(row.locator("td").nth(2)).to_have_text("2")
    page.get_by_label("Environment").select_option("prod")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#datasets-table tbody tr")).to_have_text(
        ['No datasets yet: register_dataset("name", frame) records one.']
    )
    page.get_by_label("Environment").select_option("dev")
    page.get_by_role("button", name="Apply").click()
    # The dev table is swapped in whole before its link is followed (a click during the swap
    # can land on the outgoing table).
    expect(page).to_have_url(re.compile(r"environment=dev"))
    expect(row.locator("td").nth(0)).to_have_text("dev")
    page.get_by_role("link", name="customers v2").click()
    expect(page.get_by_role("heading", name="customers v2")).to_be_visible()


def test_a_version_shows_schema_profile_and_diff(
    watched: Page, catalog: Catalog, shots: Path
) -> None:
    page = watched
    start = "/w/ml/datasets/dev/customers/2"
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start=start)
    schema = page.locator("#schema tbody tr")
    expect(schema).to_have_count(3)
    for row in ["age int64", "income double", "city string"]:
        expect(page.locator("#schema").get_by_role("row", name=row)).to_be_visible()
    age = page.get_by_role("img", name="Histogram of age")
    expect(age).to_be_visible()
    bars = age.locator("rect.bar")
    assert bars.count() > 3
    # Every row of the version is in one bar or another.
    counts = [int(t.rsplit(": ", 1)[1]) for t in bars.locator("title").all_text_contents()]
    assert sum(counts) == 200
    city = page.locator("figure", has_text="city")
    expect(city.locator("meter")).to_have_count(3)
    assert sum(int(m.get_attribute("value") or 0) for m in city.locator("meter").all()) == 200

    page.get_by_label("Compare with").select_option("v1")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#diff-summary")).to_contain_text("rows 150 → 200")
    row = page.locator("#diff tbody tr", has_text="city")
    expect(row).to_contain_text("new: lille")
    expect(row).to_contain_text("gone: nice")
    assert "against=v1" in page.url
    page.screenshot(path=str(shots / "dataset.png"), full_page=True, caret="initial")


def test_lineage_leads_from_a_dataset_to_its_run_and_the_model_it_made(
    watched: Page, catalog: Catalog
) -> None:
    page = watched
    sign_in(page, catalog.seeded, catalog.seeded.admin_token, start="/w/ml/datasets")
    page.get_by_role("link", name="customers v2").click()
    page.locator("#lineage").get_by_role("link", name="run train-1.0").click()
    expect(page.get_by_role("heading", name="train-1.0")).to_be_visible()
    assert page.url.endswith(f"/runs/{catalog.train_run}")
    lineage = page.locator("#run-lineage")
    expect(lineage).to_contain_text("Input: dataset dev/customers@v2")
    lineage.get_by_role("link", name="models:/churner/2").click()
    expect(page.get_by_role("heading", name="churner v2")).to_be_visible()
    expect(page.locator("#lineage").get_by_role("link", name="dev/customers@v2")).to_be_visible()
