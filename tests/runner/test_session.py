from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from modelwright.client import Client
from modelwright.errors import InvalidInput, PermissionDenied
from modelwright.runner import NodeFailed, PipelineSession, run_pipeline

Calls = Callable[[], list[str]]

pytestmark = pytest.mark.usefixtures("workspace")


def _session(client: Client, project: Path, **kw: object) -> PipelineSession:
    return PipelineSession(client, project, environment="dev", **kw)  # type: ignore[arg-type]


def test_rerun_is_cached_and_identical_dataframe_keeps_downstream_cached(
    client: Client, make_project: Callable[..., Path], calls: Calls
) -> None:
    project = make_project()
    first = _session(client, project).run("main")
    assert sorted(calls()) == ["double", "histogram", "source", "summarise"]
    assert {n: r.status for n, r in first.nodes.items()} == dict.fromkeys(first.nodes, "ran")

    second = _session(client, project).run("main")
    # source opts out of caching and runs again; its DataFrame is content-identical, so
    # everything downstream is restored from the cache.
    assert calls() == ["source"]
    status = {n: r.status for n, r in second.nodes.items()}
    assert status["source"] == "ran" and "cache=False" in second.nodes["source"].reason
    assert all(status[n] == "cached" for n in ("double", "summarise", "histogram"))
    assert second.load("summary") == first.load("summary")
    assert np.array_equal(second.load("hist"), first.load("hist"))
    assert second.load("doubled").equals(first.load("doubled"))

    # The tracked runs: one parent, a child per node; cached children name their source.
    parent = client.get_run(second.run_id)
    assert parent.status == "finished"
    assert any(a.path == "pipeline/config.json" for a in parent.artifacts)
    children = [
        r for r in client.search_runs(experiment="project-main") if r.parent_id == second.run_id
    ]
    assert sorted(c.name for c in children) == ["double", "histogram", "source", "summarise"]
    cached_child = next(c for c in children if c.name == "summarise")
    assert cached_child.tags["modelwright.cache"] == "hit"
    assert cached_child.tags["modelwright.cache.source_run"] == first.nodes["summarise"].run_id
    assert cached_child.params == {"scale": "1.5"}
    detail = client.get_run(cached_child.id)
    assert [a.path for a in detail.artifacts] == ["outputs/summary"]


def test_param_change_reruns_only_dependants_and_explains_why(
    client: Client, make_project: Callable[..., Path], calls: Calls
) -> None:
    project = make_project()
    _session(client, project).run("main")
    calls()
    result = _session(client, project, params=["scale=3"]).run("main")
    assert sorted(calls()) == ["source", "summarise"]
    assert result.nodes["summarise"].status == "ran"
    assert "parameter 'scale' changed" in result.nodes["summarise"].reason
    assert result.nodes["double"].status == "cached"
    assert "same code, inputs, parameters and environment" in result.nodes["double"].reason

    again = _session(client, project, params=["scale=3"]).run("main", cache=False)
    assert sorted(calls()) == ["double", "histogram", "source", "summarise"]
    assert "--no-cache" in again.nodes["double"].reason


def test_failure_stops_dependants_and_rerun_resumes_from_cache(
    client: Client,
    make_project: Callable[..., Path],
    calls: Calls,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = make_project()
    monkeypatch.setenv("MW_TEST_FAIL", "summarise")
    with pytest.raises(
        NodeFailed, match="node 'summarise' failed: RuntimeError: summarise was told"
    ):
        _session(client, project).run("main")
    calls()
    monkeypatch.delenv("MW_TEST_FAIL")
    resumed = _session(client, project).run("main")
    # Only the failed node (and the uncached source) run again.
    assert sorted(calls()) == ["source", "summarise"]
    assert resumed.nodes["histogram"].status == "cached"
    assert resumed.nodes["double"].status == "cached"


def test_failed_run_is_recorded_with_the_node_error(
    client: Client, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MW_TEST_FAIL", "summarise")
    with pytest.raises(NodeFailed) as info:
        _session(client, make_project()).run("main")
    result = info.value.result
    assert result.failed == "summarise"
    assert result.nodes["summarise"].status == "failed"
    failed_child = client.get_run(str(result.nodes["summarise"].run_id))
    assert failed_child.status == "failed" and "summarise was told to fail" in failed_child.error
    parent = client.get_run(result.run_id)
    assert parent.status == "failed" and "node 'summarise' failed" in parent.error


def test_uncacheable_output_is_explained_not_an_error(
    client: Client, make_project: Callable[..., Path], calls: Calls
) -> None:
    project = make_project()
    _session(client, project).run("opaque")
    calls()
    result = _session(client, project).run("opaque")
    assert sorted(calls()) == ["count", "opaque"]
    assert result.nodes["source"].status == "cached"
    assert "has no stored form" in result.nodes["opaque"].reason
    assert result.load("size") == 1


def test_catalog_files_are_read_and_written(
    client: Client, make_project: Callable[..., Path], calls: Calls
) -> None:
    project = make_project(
        catalog="""
        doubled: {type: parquet, path: out/doubled.parquet}
        summary: {type: json, path: out/summary.json}
        """
    )
    first = _session(client, project).run("main")
    written = project / "out" / "summary.json"
    assert written.exists() and (project / "out" / "doubled.parquet").exists()
    written.unlink()
    _session(client, project).run("main")
    assert written.exists(), "a cached output bound to a missing file is written again"
    assert first.load("summary")["rows"] == 40


@pytest.mark.parametrize(
    ("catalog", "params", "message"),
    [
        ("", ["nope=1"], "unknown parameter 'nope'"),
        ("raw: {type: memory}", [], "node 'double' reads 'raw'"),
    ],
)
def test_bad_input_fails_before_any_node_runs(
    client: Client,
    make_project: Callable[..., Path],
    calls: Calls,
    catalog: str,
    params: list[str],
    message: str,
) -> None:
    project = make_project(catalog=catalog)

    def run() -> None:
        session = _session(client, project, params=params)
        pipe = session.pipeline("main").from_inputs("raw")  # 'raw' becomes a free input
        run_pipeline(
            client, pipe, name="main", config=session.config, environment="dev", project=project
        )

    with pytest.raises(InvalidInput, match=message):
        run()
    assert calls() == []
    assert client.search_runs() == []


def test_production_datastore_is_refused_from_dev(
    client: Client, make_project: Callable[..., Path], calls: Calls, tmp_path: Path
) -> None:
    ws = client.resolve_workspace()
    client.create_datastore(ws, "prod", "lake", str(tmp_path / "lake"), classification="production")
    project = make_project(catalog="summary: {type: json, datastore: prod/lake, path: s.json}")
    with pytest.raises(PermissionDenied, match="production datastore 'prod/lake'"):
        _session(client, project).run("main")
    assert calls() == []
    assert client.search_runs() == []
