"""Live state in Chromium: a running run's page follows the run, and a pipeline's run its
nodes, to the end without a reload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect
from tests.ui.conftest import Seeded, sign_in

from modelwright.api import pipelines as pipeline_ops
from modelwright.api import tracking as tracking_ops
from modelwright.client import Client
from modelwright.pipelines import models as pm


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


def test_a_running_pipeline_dag_follows_its_nodes_without_a_reload(
    watched: Page, seeded: Seeded, local_client: Client, tmp_path: Path
) -> None:
    """A pipeline's run as the runner records it, one call at a time: the page's DAG shows
    each node as the record reaches it."""
    page = watched
    c = local_client
    parent = c.call(
        tracking_ops.START_RUN,
        workspace="ml",
        environment="dev",
        experiment="flows",
        name="pipeline live",
        tags={"modelwright.pipeline": "live"},
    )
    dag = pm.PipelineDag(
        nodes=[pm.DagNode(name="load", outputs=["raw"]), pm.DagNode(name="fit", needs=["load"])]
    )
    (tmp_path / "dag.json").write_text(dag.model_dump_json())
    c.log_artifact(parent.id, tmp_path / "dag.json", artifact_path="pipeline")
    sign_in(page, seeded, seeded.admin_token, start=f"/runs/{parent.id}")
    nodes = page.locator("#pipeline-nodes")
    expect(nodes.locator("tr[data-node='load'] .status")).to_have_text("pending")
    page.evaluate("() => { window.stillHere = true }")

    now = datetime.now(UTC)
    node = pm.NodeRun(
        node="load",
        run_id=uuid.uuid4().hex,
        started_at=now,
        ended_at=now,
        tags={"modelwright.reason": "not cached: first run"},
        metrics={"duration_s": 0.25},
    )
    c.call(pipeline_ops.RECORD_PIPELINE_RUN, run_id=parent.id, pipeline="live", nodes=[node])
    expect(nodes.locator("tr[data-node='load'] .status")).to_have_text("ran", timeout=15_000)
    expect(nodes.locator("tr[data-node='load']")).to_contain_text("not cached: first run")
    expect(nodes.locator("tr[data-node='fit'] .status")).to_have_text("pending")

    end = pm.PipelineRunEnd(status="killed", error="stopped by hand")
    c.call(pipeline_ops.RECORD_PIPELINE_RUN, run_id=parent.id, pipeline="live", end=end)
    expect(nodes.locator("tr[data-node='fit'] .status")).to_have_text("skipped", timeout=15_000)
    expect(page.locator("#run-state .status")).to_have_text("killed", timeout=15_000)
    expect(page.locator("svg.graph g.node.ran[data-key='load']")).to_have_count(1)
    assert page.evaluate("() => window.stillHere") is True
