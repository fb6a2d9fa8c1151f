"""How a pipeline's run is recorded: node runs in batches, lineage, registered datasets."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from tests.conftest import Connector

from modelwright.api import pipelines as pipeline_ops
from modelwright.api import tracking as tracking_ops
from modelwright.client import Client
from modelwright.errors import Conflict, InvalidInput, ServiceUnavailable
from modelwright.lineage.models import LineageNode
from modelwright.objects.models import ObjectScope
from modelwright.pipelines import models as pm
from modelwright.runner import PipelineSession, run_pipeline
from modelwright.store import schema

pytestmark = pytest.mark.usefixtures("workspace")


@pytest.fixture
def operations(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the operations the client calls, in order."""
    called: list[str] = []
    call = client.transport.call

    def counting(op: Any, req: Any) -> Any:
        called.append(op.name)
        return call(op, req)

    monkeypatch.setattr(client.transport, "call", counting)
    # One batch for the whole run: the background thread never sends on its own.
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "600")
    return called


def _walk(nodes: list[LineageNode]) -> Iterator[LineageNode]:
    for n in nodes:
        yield n
        yield from _walk(n.children)


def test_nodes_cost_no_call_of_their_own(
    client: Client, make_project: Callable[..., Path], operations: list[str], tmp_path: Path
) -> None:
    project = make_project()
    result = PipelineSession(client, project, environment="dev").run("main")
    # The run's start, one lookup for every node, and one record of everything at the end
    # (nodes that need an upstream output first are looked up once it is there).
    assert operations.count(tracking_ops.START_RUN.name) == 1
    assert operations.count(pipeline_ops.RECORD_PIPELINE_RUN.name) == 1
    assert operations[-1] == pipeline_ops.RECORD_PIPELINE_RUN.name
    for name in ("end_run", "log_batch", "log_artifacts", "record_cache"):
        assert name not in operations

    parent = client.get_run(result.run_id)
    assert parent.status == "finished"
    assert parent.params["scale"] == "1.5"
    assert [a.path for a in parent.artifacts] == ["pipeline/config.json", "pipeline/dag.json"]
    # The DAG as it ran, so that a node that never starts still has its place on the record.
    saved = client.download_artifacts(result.run_id, pm.DAG_ARTIFACT, tmp_path / "dag")
    dag = pm.PipelineDag.model_validate_json(saved.read_bytes())
    assert {n.name: n.needs for n in dag.nodes} == {
        "source": [],
        "double": ["source"],
        "summarise": ["double"],
        "histogram": ["double"],
    }
    assert next(n for n in dag.nodes if n.name == "summarise").inputs == ["doubled", "params:scale"]
    summarise = client.get_run(str(result.nodes["summarise"].run_id))
    assert summarise.parent_id == result.run_id and summarise.status == "finished"
    assert summarise.params == {"scale": "1.5"}
    assert summarise.metrics["duration_s"] >= 0
    assert summarise.tags["modelwright.cache"] == "miss"
    assert summarise.tags["modelwright.reason"] == result.nodes["summarise"].reason
    assert summarise.tags["modelwright.cache.input.params:scale"]
    assert summarise.ended_at is not None and summarise.ended_at >= summarise.started_at
    [summary] = summarise.artifacts
    assert summary.path == "outputs/summary"

    # Which data and parameters produced the summary: its run, and what that run read.
    ancestors = list(_walk(client.lineage(f"artifact:{summary.digest}").ancestors))
    double = client.get_run(str(result.nodes["double"].run_id))
    assert [(n.kind, n.id) for n in ancestors[:1]] == [("run", summarise.id)]
    assert ("artifact", double.artifacts[0].digest) in {(n.kind, n.id) for n in ancestors}
    assert ("run", double.id) in {(n.kind, n.id) for n in ancestors}

    # A re-run restores from the cache, recorded in the same single call.
    operations.clear()
    again = PipelineSession(client, project, environment="dev").run("main")
    assert again.nodes["summarise"].status == "cached"
    assert operations.count(pipeline_ops.RECORD_PIPELINE_RUN.name) == 1
    cached = client.get_run(str(again.nodes["summarise"].run_id))
    assert cached.tags["modelwright.cache.source_run"] == summarise.id
    assert cached.tags["modelwright.reason"] == again.nodes["summarise"].reason


def test_registered_datasets_are_read_and_written_by_the_node_run(
    client: Client, make_project: Callable[..., Path], operations: list[str], tmp_path: Path
) -> None:
    client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    people = pd.DataFrame({"x": [1.0, 2.0, 3.0], "g": ["a", "b", "a"]})
    client.register_dataset("people", people, environment="dev")
    project = make_project(
        catalog="""
        raw: {type: registered, dataset: people@v1}
        doubled: {type: registered, dataset: doubled}
        """
    )
    session = PipelineSession(client, project, environment="dev")
    pipe = session.pipeline("main").from_inputs("raw")
    result = run_pipeline(
        client, pipe, name="main", config=session.config, environment="dev", project=project
    )
    # The node reading and writing registered datasets has its run started first (the
    # dataset versions name it); the others are recorded when they have finished.
    assert operations.count(tracking_ops.START_RUN.name) == 2
    double = client.get_run(str(result.nodes["double"].run_id))
    assert double.status == "finished" and double.parent_id == result.run_id
    assert double.tags["modelwright.cache"] == "miss"
    assert "duration_s" in double.metrics
    written = client.load_dataset("doubled@v1", environment="dev")
    assert isinstance(written, pd.DataFrame)
    assert written["x"].tolist() == [2.0, 4.0, 6.0]
    descendants = {
        (n.kind, n.id) for n in _walk(client.lineage("dataset:dev/people@v1").descendants)
    }
    assert ("run", double.id) in descendants
    assert ("run", str(result.nodes["summarise"].run_id)) in descendants


def test_the_run_records_its_environment_snapshot_with_its_record(
    client: Client, make_project: Callable[..., Path], operations: list[str]
) -> None:
    # Taken while the nodes run, not before the run starts: it goes with the record.
    result = PipelineSession(client, make_project(), environment="dev").run("main")
    parent = client.get_run(result.run_id)
    assert parent.snapshot["python"].count(".") == 2
    assert any(p.startswith("sqlalchemy==") for p in parent.snapshot["packages"])
    assert {"git", "platform", "machine", "implementation", "argv"} <= set(parent.snapshot)
    assert operations.count(pipeline_ops.RECORD_PIPELINE_RUN.name) == 1


def test_an_output_named_metrics_becomes_the_runs_metrics_also_when_cached(
    client: Client, make_project: Callable[..., Path], calls: Callable[[], list[str]]
) -> None:
    project = make_project()
    first = PipelineSession(client, project, environment="dev").run("scored")
    summary = first.load("metrics")
    assert client.get_run(first.run_id).metrics == summary
    assert set(summary) == {"mean", "rows"}
    calls()
    again = PipelineSession(client, project, environment="dev").run("scored")
    assert calls() == []  # restored from the cache, and still logged
    assert client.get_run(again.run_id).metrics == summary


def test_small_outputs_go_with_the_record_and_large_ones_are_uploaded(
    client: Client,
    make_project: Callable[..., Path],
    operations: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uploaded: list[int] = []
    put = client.transport.put_object

    def counting(scope: Any, source: Any) -> str:
        uploaded.append(len(source))
        return put(scope, source)

    monkeypatch.setattr(client.transport, "put_object", counting)
    project = make_project(params="n: 20000\nscale: 1.5\n")  # DataFrames over 64 KiB
    result = PipelineSession(client, project, environment="dev").run("main")
    # Only the two DataFrames are uploaded on their own; the rest travel in the record.
    assert len(uploaded) == 2 and min(uploaded) > pm.MAX_INLINE_OBJECT
    for name in ("raw", "doubled", "summary", "hist"):
        obj = result._objects[name]
        data = client.transport.get_object(ObjectScope.artifacts(), obj.digest)
        assert isinstance(data, bytes) and len(data) == obj.size
    assert result.load("summary")["rows"] == 20000
    config = client.get_run(result.run_id).artifacts[0]
    assert config.path == "pipeline/config.json"
    assert client.transport.get_object(ObjectScope.artifacts(), config.digest)
    # And a re-run restores every node from what was stored.
    again = PipelineSession(client, project, environment="dev").run("main")
    assert {r.status for n, r in again.nodes.items() if n != "source"} == {"cached"}
    assert again.load("summary") == result.load("summary")


def test_a_record_refuses_objects_that_do_not_match_their_digest(
    client: Client, connector: Connector
) -> None:
    run = client.start_run("x", environment="dev", snapshot=False)
    data = b'{"a":1}'
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(InvalidInput, match="hash to"):
        client.call(
            pipeline_ops.RECORD_PIPELINE_RUN,
            run_id=run.id,
            pipeline="p",
            objects={wrong: base64.b64encode(data).decode()},
        )
    assert not connector.platform.artifacts.exists(wrong)
    # Sent as the run's artifact with its bytes, it is stored and readable.
    digest = hashlib.sha256(data).hexdigest()
    client.call(
        pipeline_ops.RECORD_PIPELINE_RUN,
        run_id=run.id,
        pipeline="p",
        objects={digest: base64.b64encode(data).decode()},
        artifacts=[{"path": "a.json", "digest": digest, "size": len(data)}],
    )
    assert client.transport.get_object(ObjectScope.artifacts(), digest) == data


def test_a_run_snapshot_is_set_once(client: Client) -> None:
    run = client.start_run("x", environment="dev", snapshot=False)
    record = {"run_id": run.id, "pipeline": "p"}
    client.call(pipeline_ops.RECORD_PIPELINE_RUN, **record, snapshot={"python": "3.11.7"})
    client.call(pipeline_ops.RECORD_PIPELINE_RUN, **record, snapshot={"python": "3.11.7"})
    with pytest.raises(Conflict, match="snapshot already"):
        client.call(pipeline_ops.RECORD_PIPELINE_RUN, **record, snapshot={"python": "3.12.0"})
    assert client.get_run(run.id).snapshot == {"python": "3.11.7"}


def test_a_record_whose_answer_was_lost_is_sent_again_and_recorded_once(
    client: Client,
    connector: Connector,
    make_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "600")  # one record, at the end
    call = client.transport.call
    keys: list[str] = []

    def answer_lost_once(op: Any, req: Any) -> Any:
        answer = call(op, req)
        if op.name == pipeline_ops.RECORD_PIPELINE_RUN.name:
            keys.append(req.idempotency_key)
            if len(keys) == 1:  # applied, but the client never hears of it: a timeout
                raise ServiceUnavailable("no answer from the server: timed out")
        return answer

    monkeypatch.setattr(client.transport, "call", answer_lost_once)
    result = PipelineSession(client, make_project(), environment="dev").run("main")
    assert len(keys) == 2 and keys[0] == keys[1]  # the same record, sent again
    assert client.get_run(result.run_id).status == "finished"
    with connector.platform.engine.connect() as conn:
        children = conn.scalar(
            select(func.count())
            .select_from(schema.Run)
            .where(schema.Run.parent_id == result.run_id)
        )
    assert children == len(result.nodes)
