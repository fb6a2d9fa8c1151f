"""Nodes log to their own child runs; ``metrics`` entries become the pipeline run's metrics;
a failed node says where the user's code failed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from modelwright.client import Client
from modelwright.errors import InvalidInput, NodeFailed, failure_text, user_frame
from modelwright.runner import PipelineSession

pytestmark = pytest.mark.usefixtures("workspace")

NODES = Path(__file__).with_name("nodes.py")


def _session(client: Client, project: Path, **kw: object) -> PipelineSession:
    return PipelineSession(client, project, environment="dev", **kw)  # type: ignore[arg-type]


def _line_of(text: str) -> int:
    """The line of nodes.py holding ``text``."""
    return next(i for i, line in enumerate(NODES.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("executor", ["sequential", "process"])
def test_a_node_logs_to_its_child_run_and_its_metrics_entry_to_the_pipeline_run(
    client: Client, make_project: Callable[..., Path], executor: str
) -> None:
    project = make_project(catalog="scores: {type: metrics}\n")
    result = _session(client, project).run("evaluated", executor=executor)

    child = client.get_run(str(result.nodes["evaluate"].run_id))
    assert child.parent_id == result.run_id and child.name == "evaluate"
    assert child.status == "finished"
    assert child.metrics["rows_seen"] == 40.0 and "duration_s" in child.metrics
    assert child.params["threshold"] == "0.5"
    assert "notes/evaluate.txt" in {a.path for a in child.artifacts}
    assert child.experiment == "project-evaluated"

    parent = client.get_run(result.run_id)
    assert parent.experiment == "project-evaluated"
    scores = result.load("scores")
    assert parent.metrics["mean"] == pytest.approx(scores["mean"])
    assert parent.metrics["f1.macro"] == 0.75 and parent.metrics["rows"] == 40.0
    # The pipeline's runs are found by the experiment named after the project and pipeline.
    found = client.search_runs(experiment="project-evaluated")
    assert result.run_id in {r.id for r in found} and child.id in {r.id for r in found}


def test_a_run_started_in_a_node_is_a_child_of_the_nodes_run(
    client: Client, make_project: Callable[..., Path]
) -> None:
    result = _session(client, make_project()).run("nested")
    node_run = client.get_run(str(result.nodes["nested"].run_id))
    assert node_run.status == "finished" and node_run.parent_id == result.run_id
    (inner,) = [r for r in client.search_runs() if r.parent_id == node_run.id]
    assert inner.name == "inner" and inner.status == "finished"
    assert inner.metrics["inner_rows"] == 40.0


def test_a_node_that_logs_nothing_costs_no_run_start(
    client: Client, make_project: Callable[..., Path]
) -> None:
    result = _session(client, make_project()).run("main")
    for report in result.nodes.values():
        run = client.get_run(str(report.run_id))
        assert run.status == "finished" and run.parent_id == result.run_id


def test_a_cached_metrics_entry_is_logged_again_on_a_rerun(
    client: Client, make_project: Callable[..., Path]
) -> None:
    project = make_project(catalog="scores: {type: metrics}\n")
    _session(client, project).run("evaluated")
    again = _session(client, project).run("evaluated")
    assert again.nodes["evaluate"].status == "cached", again.nodes["evaluate"].reason
    assert client.get_run(again.run_id).metrics["f1.macro"] == 0.75


def test_a_metrics_entry_that_is_not_numbers_fails_its_node_saying_so(
    client: Client, make_project: Callable[..., Path]
) -> None:
    project = make_project(catalog="raw: {type: metrics}\n")
    with pytest.raises(NodeFailed, match="catalog 'raw': a metrics entry holds a dict"):
        _session(client, project).run("evaluated")


def test_the_experiment_can_be_set_and_a_bad_name_is_refused_before_any_node(
    client: Client, make_project: Callable[..., Path]
) -> None:
    project = make_project()
    result = _session(client, project).run("main", experiment="churn-nightly")
    assert client.get_run(result.run_id).experiment == "churn-nightly"
    with pytest.raises(InvalidInput, match="experiment: must be letters"):
        _session(client, project).run("main", experiment="no/slash")
    assert {r.experiment for r in client.search_runs()} == {"churn-nightly"}


def test_the_project_name_comes_from_pyproject(
    client: Client, make_project: Callable[..., Path]
) -> None:
    project = make_project()
    (project / "pyproject.toml").write_text('[project]\nname = "churn model"\n')
    result = _session(client, project).run("main")
    assert client.get_run(result.run_id).experiment == "churn-model-main"


@pytest.mark.parametrize("executor", ["sequential", "process"])
def test_a_failed_node_points_at_the_users_line(
    client: Client, make_project: Callable[..., Path], executor: str
) -> None:
    with pytest.raises(NodeFailed) as info:
        _session(client, make_project()).run("broken", executor=executor)
    where = f"at {NODES.relative_to(Path.cwd())}:{_line_of('/ 0  # the line')} in broken:"
    first, second = str(info.value).splitlines()[:2]
    assert first == "node 'broken' failed: ZeroDivisionError: division by zero"
    assert second == f"  {where} return len(frame) / 0  # the line a failure points at"

    # The node's run and the pipeline's run keep the summary and the full traceback.
    child = client.get_run(str(info.value.result.nodes["broken"].run_id))
    lines = child.error.splitlines()
    assert lines[0] == "ZeroDivisionError: division by zero" and lines[1].startswith(f"  {where}")
    assert "Traceback (most recent call last)" in child.error
    parent = client.get_run(info.value.result.run_id)
    assert parent.error.splitlines()[:2] == [first, second]
    assert "Traceback (most recent call last)" in parent.error


def _parse(text: str) -> object:
    return json.loads(text)  # a library raises; the user's line is this one


def test_the_users_frame_skips_library_frames() -> None:
    try:
        _parse("{nope")
    except ValueError as exc:
        frame = user_frame(exc)
        text = failure_text(exc)
    else:
        raise AssertionError("expected a ValueError")
    assert frame.endswith(
        "in _parse: return json.loads(text)  # a library raises; the user's line is this one"
    )
    assert text.splitlines()[1] == f"  {frame}"
    assert text.splitlines()[0].startswith("JSONDecodeError: Expecting property name")
    assert "json/decoder.py" in text  # the full traceback follows


def test_a_run_id_chosen_by_the_client_is_used_once(client: Client) -> None:
    from modelwright.errors import AlreadyExists

    chosen = "ab" * 16
    with client.start_run("chosen", environment="dev", run_id=chosen, snapshot=False) as run:
        assert run.id == chosen
    with pytest.raises(AlreadyExists, match=f"run_id: run '{chosen}' exists already"):
        client.start_run("chosen", environment="dev", run_id=chosen, snapshot=False)
    with pytest.raises(InvalidInput, match="run_id"):
        client.start_run("chosen", environment="dev", run_id="nope", snapshot=False)
