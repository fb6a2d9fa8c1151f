"""``modelwright jobs``, ``events`` and ``worker`` as a user types them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tests.workflows.flows  # noqa: F401 - registers the test workflows
from sqlalchemy import select
from tests.cli.conftest import Run

import modelwright
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.settings import Settings
from modelwright.store import schema
from modelwright.workflows import start

ROOT = Path(__file__).resolve().parents[2]


def _start(home: Path, kind: str, environment: str = "dev", **inputs: object) -> int:
    platform = Platform(Settings(home=home))
    try:
        with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
            job_id = start(
                ctx.session,
                kind,
                dict(inputs),
                started_by=LOCAL_ADMIN,
                workspace="ml",
                environment=environment,
                reason="from the test",
            )
    finally:
        platform.close()
    assert job_id is not None
    return job_id


def _worker(home: Path, *args: str, db_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    env["MODELWRIGHT_HOME"] = str(home)
    env.pop("MODELWRIGHT_DB_URL", None)
    if db_url:
        env["MODELWRIGHT_DB_URL"] = db_url
    return subprocess.run(
        [sys.executable, "-m", "modelwright", "worker", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_jobs_are_listed_shown_cancelled_and_retried(cli: Run, home: Path, tmp_path: Path) -> None:
    with modelwright.connect(home) as client:
        client.create_workspace("ml")
    done = _start(home, "test.steps", log=str(tmp_path), n=2)
    waiting = _start(home, "test.approval", "prod", log=str(tmp_path))
    ran = _worker(home, "--once", "--import", "tests.workflows.flows")
    assert ran.returncode == 0, ran.stderr
    assert "ran 2 job(s)" in ran.stdout

    listed = cli("jobs", "list")
    assert listed.code == 0, listed.err
    assert "test.steps" in listed.out and "ml/dev" in listed.out and "succeeded" in listed.out
    only = json.loads(cli("jobs", "list", "--status", "waiting", "--json").out)
    assert [j["id"] for j in only] == [waiting]
    assert json.loads(cli("jobs", "list", "-w", "ml", "-e", "dev", "--json").out)[0]["id"] == done

    shown = cli("jobs", "show", str(done))
    assert shown.code == 0, shown.err
    assert f"Job {done} test.steps in ml/dev: succeeded" in shown.out
    assert "started by admin" in shown.out and "from the test" in shown.out
    assert "effect 1" in shown.out and "effect 2" in shown.out and "seconds" in shown.out
    assert "waiting for signal 'approve'" in cli("jobs", "show", str(waiting)).out

    cancelled = cli("jobs", "cancel", str(waiting))
    assert cancelled.code == 0 and "cancelled" in cancelled.out
    again = cli("jobs", "cancel", str(waiting))
    assert again.code == 1 and f"job {waiting} is cancelled already" in again.err
    retried = json.loads(cli("jobs", "retry", str(waiting), "--json").out)
    assert retried["status"] == "queued" and [s["name"] for s in retried["steps"]] == ["prepare"]
    assert cli("jobs", "show", "999").err.strip().endswith("job 999 not found")

    lines = cli("events", "--kind", "job.*", "--json").out.splitlines()
    statuses = [(e["data"]["job"], e["data"]["status"]) for e in map(json.loads, lines)]
    assert statuses[-2:] == [(waiting, "cancelled"), (waiting, "queued")]
    last = json.loads(lines[-1])["id"]
    assert cli("events", "--since", str(last)).out == ""
    text = cli("events", "--since", str(last - 1)).out
    assert f"{last}  " in text and "job.state_changed" in text and "ml/prod" in text


def test_a_worker_refuses_a_module_that_does_not_import(home: Path) -> None:
    ran = _worker(home, "--once", "--import", "no_such_module_here")
    assert ran.returncode == 1
    assert "--import: module 'no_such_module_here' failed to import" in ran.stderr


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_worker_once_drains_what_is_due_on_either_database(
    settings: Settings, tmp_path: Path
) -> None:
    platform = Platform(settings)
    try:
        with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
            ids = [
                start(ctx.session, "test.steps", {"log": str(tmp_path), "n": 1}, started_by="admin")
                for _ in range(3)
            ]
        ran = _worker(
            settings.home, "--once", "--import", "tests.workflows.flows", db_url=settings.db_url
        )
        assert ran.returncode == 0, ran.stderr
        assert "ran 3 job(s)" in ran.stdout
        with platform._sessions() as session:
            statuses = session.scalars(select(schema.Job.status).where(schema.Job.id.in_(ids)))
            assert list(statuses) == ["succeeded"] * 3
    finally:
        platform.close()


def test_the_help_lists_the_workflow_commands(cli: Run) -> None:
    top = cli("--help").out
    assert all(name in top for name in ("jobs", "events", "worker"))
    jobs = cli("jobs", "--help").out
    assert all(name in jobs for name in ("list", "show", "cancel", "retry"))
    assert "--no-worker" in cli("server", "--help").out


SUM_PROJECT = """
from modelwright.pipelines import node, pipeline


def numbers(n):
    return list(range(int(n)))


def total(values):
    return sum(values)


PIPELINES = {"sum": pipeline([
    node(numbers, inputs="params:n", outputs="values"),
    node(total, inputs="values", outputs="total"),
])}
"""


def _sum_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "base" / "parameters.yml").write_text("n: 4\n")
    (root / "pipelines.py").write_text(SUM_PROJECT)
    return root


def test_a_submitted_pipeline_run_waits_in_the_queue_until_a_worker_runs_it(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    project = _sum_project(tmp_path)
    assert cli("workspace", "create", "ml").code == 0
    queued = cli(
        "pipeline", "run", "sum", "--project", str(project), "-w", "ml", "--submit", "--detach"
    )
    assert queued.code == 0, queued.err
    assert "job 1 (pipeline.run in ml/dev) queued" in queued.out
    assert "modelwright jobs wait 1" in queued.out
    assert json.loads(cli("jobs", "list", "--json").out)[0]["status"] == "queued"
    done = _worker(home, "--once")
    assert done.returncode == 0, done.stderr
    job = json.loads(cli("jobs", "show", "1", "--json").out)
    assert job["status"] == "succeeded", job["error"]
    assert job["result"]["nodes"] == {"numbers": "ran", "total": "ran"}
    listed = cli("jobs", "list")
    assert "pipeline.run" in listed.out and "succeeded" in listed.out


def test_submitting_without_detach_runs_the_job_here_and_fails_with_it(
    cli: Run, tmp_path: Path
) -> None:
    project = _sum_project(tmp_path)
    assert cli("workspace", "create", "ml").code == 0
    ok = cli("pipeline", "run", "sum", "--project", str(project), "-w", "ml", "--submit")
    assert ok.code == 0, ok.err
    assert "succeeded" in ok.out and "run pipeline" in ok.out
    bad = cli(
        "pipeline", "run", "sum", "--project", str(project), "-w", "ml", "--submit",
        "--params", "n=oops",
    )  # fmt: skip
    assert bad.code == 1
    assert "job 2 failed" in bad.err
    assert "oops" in bad.err


def test_jobs_signal_wakes_a_waiting_job_and_refuses_a_payload_that_is_not_an_object(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    assert cli("workspace", "create", "ml").code == 0
    job = _start(home, "test.approval", log=str(tmp_path))
    assert _worker(home, "--once", "--import", "tests.workflows.flows").returncode == 0
    bad = cli("jobs", "signal", str(job), "approve", "--payload", "[1]")
    assert bad.code == 2 and "must be a JSON object" in bad.err
    sent = cli("jobs", "signal", str(job), "approve", "--payload", '{"ok": true}')
    assert sent.code == 0, sent.err
    assert _worker(home, "--once", "--import", "tests.workflows.flows").returncode == 0
    shown = json.loads(cli("jobs", "show", str(job), "--json").out)
    assert shown["status"] == "succeeded"
    assert shown["result"] == {"ok": True, "sent_by": LOCAL_ADMIN}
