"""The UI in a real Chromium (Debian's, driven by Playwright): sign in, filter, sort and
choose the columns of the runs table, open a run's charts; a viewer is refused a change.
Every page must load with no console error (a CSP violation is one) and no failed request."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from tests.ui.conftest import Seeded, sign_in, unlabelled_controls


def run_names(page: Page) -> list[str]:
    return page.locator("#runs-table tbody tr td:nth-child(2)").all_inner_texts()


def test_runs_table_filter_sort_and_columns(watched: Page, seeded: Seeded, shots: Path) -> None:
    page = watched
    sign_in(page, seeded, seeded.admin_token)
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    assert sorted(run_names(page)) == ["run-0", "run-1", "run-2", "run-3", "still-going"]
    page.screenshot(path=str(shots / "runs.png"), full_page=True, caret="initial")

    page.get_by_label("Filter", exact=True).fill("metrics.auc > 0.8")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(2)
    assert "filter=metrics.auc" in page.url  # the view is in the URL, to share

    page.get_by_role("link", name="metrics.auc").click()
    expect(page.locator("th[aria-sort=descending]")).to_have_text("metrics.auc ▼")
    assert run_names(page) == ["run-1", "run-2"]
    page.get_by_role("link", name="metrics.auc ▼").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_text("metrics.auc ▲")
    assert run_names(page) == ["run-2", "run-1"]

    page.get_by_text("Columns (").click()
    page.get_by_label("params.lr").uncheck()
    page.get_by_role("button", name="Show these columns").click()
    expect(page.locator("#runs-table thead th", has_text="params.lr")).to_have_count(0)
    expect(page.locator("#runs-table thead th", has_text="params.depth")).to_have_count(1)
    # Filter and sort survive choosing columns.
    assert run_names(page) == ["run-2", "run-1"]

    # The shared URL opens the same view in a new page.
    url = page.url
    other = page.context.new_page()
    other.goto(url)
    assert other.locator("#runs-table tbody tr td:nth-child(2)").all_inner_texts() == [
        "run-2",
        "run-1",
    ]
    other.close()


def test_a_run_draws_its_metric_charts(watched: Page, seeded: Seeded, shots: Path) -> None:
    page = watched
    sign_in(page, seeded, seeded.admin_token)
    page.get_by_role("link", name="run-0").click()
    expect(page.get_by_role("heading", name="run-0")).to_be_visible()
    chart = page.locator(".chart[data-label=loss]")
    expect(chart.locator("canvas")).to_be_visible()
    expect(chart).to_have_attribute("data-points", "50")
    expect(page.get_by_role("row", name="depth 3")).to_be_visible()
    page.screenshot(path=str(shots / "run.png"), full_page=True, caret="initial")


def test_a_viewer_is_refused_a_change(page: Page, seeded: Seeded) -> None:
    run = seeded.run_ids["still-going"]
    sign_in(page, seeded, seeded.viewer_token, start=f"/runs/{run}")
    page.get_by_role("button", name="Kill this run").click()
    expect(page.get_by_role("alert")).to_contain_text("principal 'vera' may not")
    page.goto(f"{seeded.url}/runs/{run}")
    expect(page.locator(".status").first).to_have_text("running")


def test_pages_are_labelled_for_assistive_technology(watched: Page, seeded: Seeded) -> None:
    page = watched
    sign_in(page, seeded, seeded.admin_token)
    for path in ["/", "/w/ml/runs", f"/runs/{seeded.run_ids['run-1']}"]:
        page.goto(seeded.url + path, wait_until="networkidle")
        assert page.locator("html").get_attribute("lang") == "en"
        assert unlabelled_controls(page) == [], path
        assert page.locator("main#main").count() == 1


def test_compare_two_runs(watched: Page, seeded: Seeded, shots: Path) -> None:
    page = watched
    sign_in(page, seeded, seeded.admin_token)
    page.get_by_label("Select run-1").check()
    page.get_by_label("Select run-3").check()
    page.get_by_role("button", name="Compare selected").click()
    expect(page.get_by_role("heading", name="Compare 2 runs")).to_be_visible()
    diff = page.locator("#diff-table")
    expect(diff.get_by_role("row", name="params.depth 9 5")).to_be_visible()
    expect(diff.get_by_role("row", name="metrics.auc 0.64 0.93")).to_be_visible()
    # The overlaid chart has one series a run; the scatter a dot a run.
    expect(page.locator(".chart[data-multi] canvas")).to_be_visible()
    expect(page.locator(".chart[data-multi]")).to_have_attribute("data-count", "2")
    expect(page.locator("svg.plot circle.dot")).to_have_count(2)
    expect(page.locator("svg.plot polyline.line")).to_have_count(2)
    page.screenshot(path=str(shots / "compare.png"), full_page=True, caret="initial")


def test_artifact_previews_are_bounded_and_html_is_sandboxed(page: Page, seeded: Seeded) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    run = seeded.run_ids["run-0"]
    sign_in(page, seeded, seeded.admin_token, start=f"/runs/{run}")
    page.get_by_role("link", name="scores.csv").click()
    expect(page.get_by_role("heading", name="scores.csv")).to_be_visible()
    expect(page.locator("table.preview tbody tr")).to_have_count(50)
    expect(page.get_by_text("The first 50 rows.")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="labels.parquet").click()
    expect(page.locator("table.preview tbody tr")).to_have_count(50)
    expect(page.get_by_text("1,000 rows")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="config.json").click()
    expect(page.locator("pre.preview")).to_contain_text('"depth": 3')
    page.go_back()
    page.get_by_role("link", name="report.html").click()
    frame = page.frame_locator("iframe.preview")
    expect(frame.get_by_role("heading", name="Report")).to_be_visible()
    assert page.title() != "owned"
    # The one console error is the browser refusing the report's script.
    assert len(errors) == 1 and "Blocked script execution" in errors[0], errors


def test_audit_trail_and_access_table(watched: Page, seeded: Seeded) -> None:
    page = watched
    sign_in(page, seeded, seeded.admin_token, start="/audit")
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    page.get_by_label("Action").fill("grant.*")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#audit-table tbody tr")).to_have_count(1)
    expect(page.locator("#audit-table tbody")).to_contain_text("grant.create")
    page.goto(f"{seeded.url}/w/ml/access")
    row = page.locator("#access-table").get_by_role("row", name="vera")
    expect(row).to_contain_text("viewer")
