"""The lineage graph in Chromium: from a dataset version through the run that read it and the
model version it trained to the endpoint serving that version, a click a step; every node a
keyboard-reachable link; over HTTP, a bad node or depth named, no graph without a grant."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page, expect
from tests.ui.conftest import Catalog, sign_in
from tests.ui.test_ui_http import _signed_in

from modelwright.client import Client


@pytest.fixture
def served(catalog: Catalog, local_client: Client) -> Catalog:
    """The catalog, with version 2 of the model serving on an endpoint in dev, and scoring
    data as batch inference does (a run using the version, writing a dataset)."""
    c = local_client
    c.create_endpoint("churn-api", workspace="ml", environment="dev")
    c.deploy("churn-api", "blue", "churner", 2, workspace="ml", environment="dev")
    with c.start_run("scoring", workspace="ml", name="score", snapshot=False) as run:
        c.use_model_version("churner", 2, run_id=run.id, workspace="ml")
        scores = pd.DataFrame({"id": [1, 2], "prediction": [0, 1]})
        c.register_dataset("scores", scores, workspace="ml", environment="dev", run_id=run.id)
    return catalog


def _centre(page: Page, name: str) -> None:
    page.get_by_role("link", name=f"{name}: centre the graph here").click()


def test_lineage_is_followed_from_a_dataset_to_the_endpoint_through_the_graph(
    watched: Page, served: Catalog, shots: Path
) -> None:
    page = watched
    start = "/w/ml/datasets/dev/customers/2"
    sign_in(page, served.seeded, served.seeded.admin_token, start=start)
    page.get_by_role("link", name="Lineage graph of customers v2").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Lineage of dataset dev/customers@v2")
    graph = page.get_by_role("group", name="Lineage graph of dataset dev/customers@v2")
    # Both runs that read it, downstream; the models they trained and the endpoint further on.
    expect(graph.get_by_role("link", name="run train-0.1: centre the graph here")).to_be_visible()
    expect(
        graph.get_by_role("link", name="endpoint churn-api: centre the graph here")
    ).to_be_visible()
    page.screenshot(path=str(shots / "lineage.png"), full_page=True, caret="initial")

    _centre(page, "run train-1.0")
    expect(heading).to_contain_text("Lineage of run train-1.0")
    expect(page.get_by_role("link", name="Open the page of run train-1.0")).to_have_attribute(
        "href", f"/runs/{served.train_run}"
    )
    _centre(page, "model version churner/v2")
    expect(heading).to_contain_text("Lineage of model churner/v2")
    # Downstream of the version: the batch run that used it and what it wrote.
    expect(page.get_by_role("link", name="run score: centre the graph here")).to_be_visible()
    expect(
        page.get_by_role("link", name="Open the page of dataset dev/scores@v1")
    ).to_have_attribute("href", "/w/ml/datasets/dev/scores/1")
    expect(
        page.get_by_role("link", name="Open the page of model version churner/v2")
    ).to_have_attribute("href", "/w/ml/models/churner/versions/2")
    _centre(page, "endpoint churn-api")
    expect(heading).to_have_text("Lineage of endpoint dev/churn-api")
    expect(page.get_by_role("link", name="Open the page of endpoint churn-api")).to_have_attribute(
        "href", "/w/ml/endpoints/dev/churn-api"
    )
    # Upstream of the endpoint: the version it serves, its run, the data the run read.
    for name in ["model version churner/v2", "run train-1.0", "dataset dev/customers@v2"]:
        expect(page.get_by_role("link", name=f"{name}: centre the graph here")).to_be_visible()
    expect(page.locator("svg.graph .edge title", has_text="deployment blue (100%)")).to_have_count(
        1
    )
    # Back to the data, from the graph, by keyboard.
    link = page.get_by_role("link", name="dataset dev/customers@v2: centre the graph here")
    link.focus()
    page.keyboard.press("Enter")
    expect(heading).to_contain_text("Lineage of dataset dev/customers@v2")


def test_the_graph_is_laid_out_upstream_left_and_downstream_right(
    watched: Page, served: Catalog
) -> None:
    page = watched
    start = f"/w/ml/lineage?node=run:{served.train_run}"
    sign_in(page, served.seeded, served.seeded.admin_token, start=start)

    def x(name: str) -> float:
        box = page.locator(f"svg.graph g.node[data-key='{name}']").bounding_box()
        assert box is not None
        return box["x"]

    assert x("dataset:dev/customers@v2") < x(f"run:{served.train_run}")
    assert x(f"run:{served.train_run}") < x("models:/churner/2")
    assert x("models:/churner/2") < x("endpoint:dev/churn-api")
    page.get_by_label("Steps each way").select_option("1")
    page.get_by_role("button", name="Show").click()
    # The data, the run, the model, and where the model serves (its impact, at any depth).
    expect(page.locator("svg.graph g.node")).to_have_count(4)


def test_graph_pages_name_a_bad_node_and_show_nothing_without_a_grant(served: Catalog) -> None:
    run = served.train_run
    with _signed_in(served.seeded, served.seeded.admin_token) as http:
        for node, status, named in [
            ("", 400, "node"),
            ("planet:mars", 400, "unknown kind"),
            ("run:nope", 404, "nope"),
            ("endpoint:dev", 400, "endpoint:&lt;environment&gt;/&lt;name&gt;"),
            ("endpoint:dev/nope", 404, "nope"),
        ]:
            r = http.get("/w/ml/lineage", params={"node": node})
            assert r.status_code == status, (node, r.status_code)
            assert named in r.text, node
        r = http.get("/w/ml/lineage", params={"node": f"run:{run}", "depth": "99"})
        assert r.status_code == 400
        assert "depth" in r.text
    with _signed_in(served.seeded, served.seeded.outsider_token) as http:
        for node in [f"run:{run}", "dataset:dev/customers@v2", "endpoint:dev/churn-api"]:
            r = http.get("/w/ml/lineage", params={"node": node})
            assert r.status_code in (403, 404), node
            assert "churner" not in r.text
            assert "customers@" not in r.text.replace(node, "")
