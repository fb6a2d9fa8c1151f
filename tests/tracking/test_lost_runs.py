"""Runs whose process died are shown as lost, and can be marked killed. A running run's
client sends heartbeats (its batches, or a light call when it logs nothing); a run without
one for ``run_lost_after`` seconds is shown as ``lost``. Here the processes are real and
killed with SIGKILL, so nothing of theirs gets to say goodbye."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.errors import Conflict
from modelwright.settings import Settings

LOST_AFTER = 2.0
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The platform (and the live server) shows a run lost after two silent seconds."""
    return settings.model_copy(update={"run_lost_after": LOST_AFTER})


@pytest.fixture
def ws(connector: Connector) -> str:
    connector.local_admin.create_workspace("ml")
    return "ml"


@pytest.fixture
def spawn(connector: Connector, tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[str]]]:
    """Start a Python script that talks to the test's platform over the test's backend; the
    script finds its client as ``client``."""
    started: list[subprocess.Popen[str]] = []
    if connector.kind == "http":
        token = connector.local_admin.create_token(name="script").secret
        connect = f"modelwright.connect({connector.url!r}, token={token!r})"
    else:
        connect = "modelwright.connect()"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), str(SRC.parent)]),
        "MODELWRIGHT_HOME": str(connector.settings.home),
        "MODELWRIGHT_DB_URL": connector.settings.db_url or "",
        "MODELWRIGHT_DATASTORE_ROOTS": str(tmp_path),
        "MODELWRIGHT_WORKSPACE": "ml",
        "MODELWRIGHT_FLUSH_INTERVAL": "0.2",
        "MODELWRIGHT_HEARTBEAT_INTERVAL": "0.3",
    }
    if not connector.settings.db_url:
        del env["MODELWRIGHT_DB_URL"]

    def start(body: str) -> subprocess.Popen[str]:
        script = f"import time, modelwright\nclient = {connect}\n" + textwrap.dedent(body)
        proc = subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line, f"the script printed nothing (exit code {proc.poll()})"
    return line


def _sigkill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


def _until(client: Client, run_id: str, status: str) -> float:
    """Seconds until ``run_id`` is shown with ``status``."""
    started = time.monotonic()
    while (shown := client.get_run(run_id).status) != status:
        assert time.monotonic() - started < LOST_AFTER + 10, f"still {shown}"
        time.sleep(0.1)
    return time.monotonic() - started


def test_a_run_whose_process_was_killed_is_shown_lost_and_can_be_marked_killed(
    client: Client, ws: str, spawn: Callable[[str], subprocess.Popen[str]]
) -> None:
    proc = spawn(
        """
        run = client.start_run("train", snapshot=False)
        run.log_metric("loss", 1.0)
        print(run.id, flush=True)
        while True:  # logs nothing more; the heartbeats keep it running
            time.sleep(0.1)
        """
    )
    run_id = _line(proc)
    time.sleep(2 * LOST_AFTER)
    assert client.get_run(run_id).status == "running"  # alive: heartbeats, no batches
    _sigkill(proc)
    assert _until(client, run_id, "lost") <= LOST_AFTER + 2
    assert [r.id for r in client.search_runs("status = 'lost'", workspace=ws)] == [run_id]
    assert client.search_runs("status = 'running'", workspace=ws) == []

    killed = client.kill_run(run_id)
    assert killed.status == "killed" and killed.ended_at is not None
    assert "killed by 'admin'" in killed.error and "no heartbeat" in killed.error
    assert client.kill_run(run_id).status == "killed"  # killing again changes nothing
    with client.start_run("train") as done:
        pass
    with pytest.raises(Conflict, match="already ended as finished"):
        client.kill_run(done.id)


def test_a_killed_pipeline_run_and_its_running_node_are_shown_lost_then_killed(
    client: Client, ws: str, spawn: Callable[[str], subprocess.Popen[str]], tmp_path: Path
) -> None:
    client.create_datastore(ws, "dev", "lake", str(tmp_path / "lake"))
    client.register_dataset("people", pd.DataFrame({"x": [1.0, 2.0]}), workspace=ws)
    project = tmp_path / "project"
    (project / "conf" / "base").mkdir(parents=True)
    (project / "conf" / "base" / "catalog.yml").write_text(
        "raw: {type: registered, dataset: people@v1}\n"
    )
    (project / "pipelines.py").write_text(
        textwrap.dedent(
            """
            import time
            from modelwright.pipelines import node, pipeline

            def stall(frame):
                print("node started", flush=True)
                while True:
                    time.sleep(0.1)

            PIPELINES = {"stall": pipeline([node(stall, inputs="raw", outputs="out")])}
            """
        )
    )
    proc = spawn(
        f"""
        from modelwright.runner import PipelineSession
        PipelineSession(client, {str(project)!r}, environment="dev").run("stall")
        """
    )
    assert _line(proc) == "node started"
    [parent] = client.search_runs(
        "", workspace=ws, experiment="project-stall", include_children=False
    )
    [node] = [r for r in client.search_runs("", workspace=ws) if r.parent_id == parent.id]
    time.sleep(2 * LOST_AFTER)
    assert client.get_run(parent.id).status == "running"  # the recorder's heartbeats
    assert client.get_run(node.id).status == "running"  # ... keep its running node alive
    _sigkill(proc)
    _until(client, parent.id, "lost")
    assert client.get_run(node.id).status == "lost"

    assert client.kill_run(parent.id).status == "killed"
    assert client.get_run(node.id).status == "killed"  # its running nodes with it
