"""A pipeline run's DAG in Chromium: every node in its place with its status (ran, cached,
failed, skipped), duration and reason, the failure with the line of the user's code, each
node linking to its own run; the pipelines list names each pipeline's latest run."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.ui.conftest import Seeded, sign_in, unlabelled_controls
from tests.ui.test_ui_http import _signed_in

from modelwright.client import Client
from modelwright.runner import NodeFailed, PipelineSession

PIPELINES = """
from modelwright.pipelines import node, pipeline
from tests.runner import nodes

PIPELINES = {
    "scoring": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw", cache=False),
        node(nodes.double, inputs="raw", outputs="doubled"),
        node(nodes.summarise, inputs=["doubled", "params:scale"], outputs="summary"),
        node(nodes.histogram, inputs="doubled", outputs="hist"),
        node(nodes.count, inputs="summary", outputs="size"),
    ]),
}
"""


@dataclass
class Pipelines:
    seeded: Seeded
    first: str  # every node ran
    second: str  # source ran, double and histogram cached, summarise failed, count skipped


@pytest.fixture
def pipelines(
    seeded: Seeded, local_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Pipelines:
    root = tmp_path / "project"
    for where in ("base", "dev"):
        (root / "conf" / where).mkdir(parents=True)
    (root / "conf" / "base" / "parameters.yml").write_text("n: 40\nscale: 1.5\n")
    (root / "conf" / "base" / "catalog.yml").write_text("")
    (root / "conf" / "dev" / "parameters.yml").write_text("")
    (root / "pipelines.py").write_text(textwrap.dedent(PIPELINES))
    first = PipelineSession(local_client, root, workspace="ml", environment="dev").run("scoring")
    # Another scale: only summarise's key changes, and it fails; what reads it never starts.
    monkeypatch.setenv("MW_TEST_FAIL", "summarise")
    session = PipelineSession(
        local_client, root, workspace="ml", environment="dev", params=["scale=2.5"]
    )
    with pytest.raises(NodeFailed) as failed:
        session.run("scoring")
    return Pipelines(seeded, first.run_id, failed.value.result.run_id)


def test_a_pipeline_run_shows_its_dag_with_each_node_status_duration_and_reason(
    watched: Page, pipelines: Pipelines, shots: Path
) -> None:
    page = watched
    sign_in(page, pipelines.seeded, pipelines.seeded.admin_token, start="/w/ml/pipelines")
    row = page.locator("#pipelines-table tbody tr", has_text="scoring")
    expect(row.locator(".status")).to_have_text("failed")
    row.get_by_role("link", name="the latest run of scoring").click()
    dag = page.get_by_role("group", name="DAG of pipeline scoring")
    expect(dag).to_be_visible()
    statuses = {
        "source": "ran",
        "double": "cached",
        "histogram": "cached",
        "summarise": "failed",
        "count": "skipped",
    }
    for node, status in statuses.items():
        expect(dag.locator(f"g.node.{status}[data-key='{node}']")).to_have_count(1)
        expect(page.locator(f"#pipeline-nodes tr[data-node='{node}'] .status")).to_have_text(status)
    nodes = page.locator("#pipeline-nodes")
    failed = nodes.locator("tr[data-node='summarise']")
    expect(failed).to_contain_text("RuntimeError: summarise was told to fail")
    expect(failed).to_contain_text("nodes.py")  # where the user's code raised
    expect(nodes.locator("tr[data-node='count']")).to_contain_text(
        "upstream node 'summarise' did not finish"
    )
    cached = nodes.locator("tr[data-node='double']")
    expect(cached).to_contain_text("same code, inputs, parameters and environment as run")
    # The run whose outputs it restored, a link away; no time of its own.
    expect(cached.get_by_role("link", name="the run it came from")).to_have_attribute(
        "href", re.compile(r"^/runs/[0-9a-f]{32}$")
    )
    expect(cached.locator("td.num")).to_have_text("–")
    expect(nodes.locator("tr[data-node='source'] td.num")).to_have_text(
        re.compile(r"^\d+\.\d{3} s$")
    )

    # Producers to the left of what reads them.
    def x(node: str) -> int:
        placed = dag.locator(f"g.node[data-key='{node}']").get_attribute("transform") or ""
        return int(re.findall(r"\d+", placed)[0])

    assert x("source") < x("double") < x("summarise") < x("count")
    assert x("histogram") == x("summarise")
    assert dag.locator(".edge").count() == 4
    # The DAG and its table (the run's error above it names files of this machine).
    page.locator("#pipeline-dag").screenshot(path=str(shots / "pipeline.png"), caret="initial")
    # Each node that ran (or came from the cache) opens its own run; a skipped one has none.
    expect(dag.get_by_role("link", name="Open the page of node count")).to_have_count(0)
    dag.get_by_role("link", name="Open the page of node summarise").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("summarise")
    expect(page.locator(".facts .status")).to_have_text("failed")
    assert unlabelled_controls(page) == []


def test_a_finished_pipeline_run_shows_every_node_ran(watched: Page, pipelines: Pipelines) -> None:
    page = watched
    sign_in(page, pipelines.seeded, pipelines.seeded.admin_token, start=f"/runs/{pipelines.first}")
    statuses = page.locator("#pipeline-nodes tbody .status")
    expect(statuses).to_have_text(["ran"] * 5)
    expect(page.locator("#pipeline-dag")).not_to_have_attribute("hx-trigger", "every 2s")


def test_no_pipeline_page_without_a_grant(pipelines: Pipelines) -> None:
    with _signed_in(pipelines.seeded, pipelines.seeded.outsider_token) as http:
        for path in [
            "/w/ml/pipelines",
            f"/runs/{pipelines.second}/pipeline",
            f"/runs/{pipelines.second}/state",
        ]:
            r = http.get(path)
            assert r.status_code in (403, 404), path
            assert "summarise" not in r.text
    with _signed_in(pipelines.seeded, pipelines.seeded.viewer_token) as http:
        r = http.get(f"/runs/{pipelines.second}/pipeline")
        assert r.status_code == 200
        assert "summarise was told to fail" in r.text
