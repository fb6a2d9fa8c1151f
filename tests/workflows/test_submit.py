"""Work submitted as jobs (pipeline runs, leaderboards, batch) and run by a worker as the
submitter, over both backends and both databases; signals sent through the client."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound, PermissionDenied
from modelwright.jobs import models as jm
from modelwright.objects.models import ObjectScope
from modelwright.pipelines.snapshot import pack_project, unpack_project
from modelwright.workflows import Worker

Unchanged = Callable[[], AbstractContextManager[None]]

PROJECT = """
from modelwright.pipelines import node, pipeline


def numbers(n):
    return list(range(int(n)))


def total(values):
    return {"total": sum(values)}


def explode(values):
    raise ValueError("no good: " + str(len(values)))


PIPELINES = {
    "sum": pipeline([
        node(numbers, inputs="params:n", outputs="values"),
        node(total, inputs="values", outputs="summary"),
    ]),
    "broken": pipeline([
        node(numbers, inputs="params:n", outputs="values"),
        node(explode, inputs="values", outputs="boom"),
    ]),
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "base" / "parameters.yml").write_text("n: 5\n")
    (root / "conf" / "base" / "catalog.yml").write_text("")
    (root / "pipelines.py").write_text(textwrap.dedent(PROJECT))
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


def test_a_snapshot_is_reproducible_and_leaves_out_what_is_not_code(
    project: Path, tmp_path: Path
) -> None:
    first = pack_project(project)
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert pack_project(project) == first  # same files, same bytes: stored once
    archive = tmp_path / "p.tar.gz"
    archive.write_bytes(first)
    out = unpack_project(archive, tmp_path / "out")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "conf/base/catalog.yml",
        "conf/base/parameters.yml",
        "pipelines.py",
    ]
    with pytest.raises(InvalidInput, match="more than a snapshot may"):
        pack_project(project, limit=10)


def test_a_submitted_pipeline_run_is_done_by_a_worker_as_the_submitter(
    client: Client, connector: Connector, project: Path
) -> None:
    client.create_workspace("ml")
    job = client.submit_pipeline_run(
        "sum", project, params=["n=10"], workspace="ml", environment="dev", reason="nightly"
    )
    assert (job.kind, job.status, job.reason) == ("pipeline.run", "queued", "nightly")
    assert Worker(connector.platform).run_once() == 1
    done = client.wait_job(job.id, timeout=60)
    assert done.status == "succeeded", done.error
    assert done.started_by == client.whoami().principal
    assert done.result["nodes"] == {"numbers": "ran", "total": "ran"}
    run = client.get_run(done.result["run_id"])
    assert run.status == "finished"
    assert [s.name for s in done.steps] == ["run pipeline"]
    audit = connector.local_admin.audit_events(action="job.submit")
    assert [a.target for a in audit] == [f"job:{job.id}"]


def test_a_failing_node_fails_the_job_with_the_nodes_error_and_the_run(
    client: Client, connector: Connector, project: Path
) -> None:
    client.create_workspace("ml")
    job = client.submit_pipeline_run("broken", project, workspace="ml", environment="dev")
    Worker(connector.platform).run_once()
    done = client.wait_job(job.id, timeout=60)
    assert done.status == "failed"
    assert done.error is not None and "no good: 5" in done.error
    assert "run " in done.error  # names the failed run, to look at with `runs show`


def test_on_the_embedded_platform_waiting_runs_the_job_here(
    project: Path, connector: Connector
) -> None:
    client = connector.local_admin
    client.create_workspace("ml")
    job = client.submit_pipeline_run("sum", project, workspace="ml", environment="dev")
    done = client.wait_job(job.id, timeout=60)  # no worker anywhere: it ran in this process
    assert done.status == "succeeded", done.error


def test_submitting_needs_pipeline_run_and_a_snapshot_of_ones_own(
    client: Client, connector: Connector, project: Path, unchanged: Unchanged
) -> None:
    client.create_workspace("ml")
    admin = connector.local_admin
    admin.create_principal("vera")
    admin.grant("vera", "viewer", workspace="ml")
    admin.create_principal("dana")
    admin.grant("dana", "data-scientist", workspace="ml")
    vera = connector.as_principal("vera")
    dana = connector.as_principal("dana")
    with unchanged(), pytest.raises(PermissionDenied, match=r"pipeline\.run"):
        vera.submit_pipeline_run("sum", project, workspace="ml", environment="dev")
    # The admin's snapshot is not dana's to name: the worker would read it as dana.
    digest = admin.transport.put_object(ObjectScope.artifacts(), pack_project(project))
    spec = jm.PipelineRunSpec(pipeline="sum", project=digest)
    with unchanged(), pytest.raises(InvalidInput, match="upload it before naming it"):
        dana.submit_job(spec, workspace="ml", environment="dev")
    with unchanged(), pytest.raises(NotFound, match="workspace 'nope'"):
        dana.submit_job(spec, workspace="nope", environment="dev")
    with unchanged(), pytest.raises(NotFound, match="it has: dev, staging, prod"):
        dana.submit_job(spec, workspace="ml", environment="qa")


def test_a_bad_spec_names_the_field(client: Client, unchanged: Unchanged) -> None:
    from modelwright.api import jobs as ops

    client.create_workspace("ml")
    spec = {"kind": "batch.run", "model": "models:/m/1", "input": "d@v1", "output": "o"}
    with unchanged(), pytest.raises(InvalidInput, match=r"spec\.batch\.run\.error_threshold"):
        client.call(
            ops.SUBMIT_JOB,
            workspace="ml",
            environment="dev",
            spec={**spec, "error_threshold": 2},
        )
    with unchanged(), pytest.raises(InvalidInput, match="spec"):
        client.call(
            ops.SUBMIT_JOB, workspace="ml", environment="dev", spec={**spec, "kind": "rm -rf"}
        )


def test_a_signal_sent_through_the_client_wakes_a_waiting_job(
    client: Client, connector: Connector, log: Path
) -> None:
    from tests.workflows.test_jobs import start_in

    client.create_workspace("ml")
    job_id = start_in(connector.platform, "test.approval", "ml", "dev", log=str(log))
    worker = Worker(connector.platform)
    worker.run_once()
    assert client.get_job(job_id).waiting_for == "approve"
    client.signal_job(job_id, "approve", {"ok": True})
    worker.run_once()
    job = client.get_job(job_id)
    assert job.status == "succeeded"
    assert job.result == {"ok": True, "sent_by": client.whoami().principal}
