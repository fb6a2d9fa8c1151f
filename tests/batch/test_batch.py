"""Batch inference over both backends (in process and HTTP): output, lineage, failures."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.batch._models import CrashOnce, FailOn, InterruptOnce, Twice
from tests.batch.conftest import FEATURES, World, customers, log_model

from modelwright.batch import BatchFailed, BatchProgress, run_batch
from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound, PermissionDenied


def _output(client: Client, name: str = "scores") -> pd.DataFrame:
    frame = client.load_dataset(f"{name}@latest", workspace="ml", environment="dev")
    assert isinstance(frame, pd.DataFrame)
    return frame


def test_output_is_the_models_prediction_joined_back_by_id(world: World) -> None:
    client, frame = world.client, world.frame
    seen: list[BatchProgress] = []
    result = run_batch(
        client,
        "models:/churn@champion",
        "customers@v1",
        "scores",
        workspace="ml",
        id_column="cust",
        chunk_rows=37,
        workers=2,
        progress=seen.append,
    )
    assert (result.rows, result.failed_rows, result.chunks, result.resumed_chunks) == (
        300,
        0,
        9,
        0,
    )
    assert result.model == "models:/churn/1" and result.input == "dev/customers@v1"
    assert result.output.ref == "scores@v1" and result.output.kind == "directory"
    out = _output(client)
    assert list(out.columns) == ["cust", "prediction", "_error"]
    assert out["_error"].isna().all()
    joined = frame.merge(out, on="cust", validate="one_to_one")
    assert len(joined) == len(frame)
    expected = world.model.predict(joined[FEATURES])
    assert np.array_equal(joined["prediction"].to_numpy(), expected)
    assert seen[-1].phase == "register" and seen[-1].rows == 300
    assert [p.rows for p in seen] == sorted(p.rows for p in seen)

    # A tracked run with its parameters and metrics, between input and output versions.
    (run,) = client.search_runs(workspace="ml", experiment="batch")
    assert run.id == result.run_id and run.status == "finished"
    detail = client.get_run(run.id)
    assert detail.params["model"] == "models:/churn/1"
    assert detail.params["input"] == "dev/customers@v1"
    assert detail.params["chunk_rows"] == "37"
    assert detail.params["executor"] == "hybrid"  # auto, two workers: this process + one forked
    assert detail.metrics["rows"] == 300 and detail.metrics["failed_rows"] == 0
    assert detail.metrics["rows_per_second"] > 0
    lineage = client.lineage(f"run:{run.id}", workspace="ml")
    inputs = {n.kind: n for n in lineage.ancestors}
    assert sorted((n.kind, n.relation) for n in lineage.ancestors) == [
        ("dataset_version", "input"),
        ("model_version", "input"),
    ]
    assert "customers@v1" in inputs["dataset_version"].label
    # Which model made the predictions, and from there the run that trained it.
    assert "churn" in inputs["model_version"].label
    assert [c.kind for c in inputs["model_version"].children] == ["run"]
    assert [(n.kind, n.relation) for n in lineage.descendants] == [("dataset_version", "output")]
    assert "scores@v1" in lineage.descendants[0].label
    up = client.lineage("dataset:dev/scores@v1", workspace="ml")
    assert up.ancestors[0].id == run.id
    assert any("customers@v1" in c.label for c in up.ancestors[0].children)


def test_generated_row_ids_are_input_positions(world: World) -> None:
    result = run_batch(
        world.client,
        "models:/churn/1",
        "dev/customers@latest",
        "scores",
        workspace="ml",
        chunk_rows=64,
        executor="inline",
    )
    out = _output(world.client)
    assert list(out.columns) == ["_row", "prediction", "_error"]
    assert out["_row"].tolist() == list(range(300))
    assert np.array_equal(out["prediction"], world.model.predict(world.frame[FEATURES]))
    # The same job again predicts again (its work directory went with success) and the
    # same content is the same version.
    again = run_batch(
        world.client,
        "models:/churn/1",
        "customers@v1",
        "scores",
        workspace="ml",
        chunk_rows=64,
        executor="inline",
    )
    assert (again.resumed_chunks, again.output.version) == (0, result.output.version)


def test_failing_rows_get_an_error_and_the_others_a_prediction(world: World) -> None:
    client, frame = world.client, world.frame
    bad = [float(frame["x0"][17]), float(frame["x0"][250])]
    log_model(client, FailOn(bad), frame, name="fragile")
    result = run_batch(
        client,
        "models:/fragile@champion",
        "customers@v1",
        "scores",
        workspace="ml",
        id_column="cust",
        chunk_rows=100,
        executor="inline",
        error_threshold=0.01,
    )
    assert (result.rows, result.failed_rows) == (300, 2)
    out = _output(client).set_index("cust")
    failed = out[out["_error"].notna()]
    assert failed.index.tolist() == ["c00017", "c00250"]
    assert failed["prediction"].isna().all()
    assert failed["_error"].str.startswith("ValueError: cannot score x0=").all()
    good = out[out["_error"].isna()]
    assert np.allclose(good["prediction"], frame.set_index("cust").loc[good.index, "x0"] * 2)


def test_too_many_failures_stop_the_job_and_register_nothing(world: World) -> None:
    client, frame = world.client, world.frame
    log_model(client, FailOn(frame["x0"][5::10].tolist()), frame, name="fragile")  # 10% fail
    with pytest.raises(BatchFailed, match=r"more than the error threshold of 5\.00%") as err:
        run_batch(
            client,
            "models:/fragile/1",
            "customers@v1",
            "scores",
            workspace="ml",
            id_column="cust",
            chunk_rows=50,
            workers=1,
            executor="inline",
            error_threshold=0.05,
        )
    assert "'c00005': ValueError: cannot score" in err.value.message
    # The second line says where the model's own code failed.
    where = err.value.message.splitlines()[1].strip()
    assert where.startswith("at ") and "_models.py:" in where
    assert where.endswith('in predict: raise ValueError(f"cannot score x0={hit[0]}")')
    assert err.value.details["where"] == where
    with pytest.raises(NotFound):
        client.get_dataset("scores", workspace="ml", environment="dev")
    (run,) = client.search_runs(workspace="ml", experiment="batch")
    assert run.status == "failed"
    # The first tasks alone pass the threshold: the rest is never predicted.
    assert err.value.details["rows"] < 300


def test_bad_input_is_refused_before_anything_runs(
    world: World, tmp_path: Path, unchanged: Callable[[], AbstractContextManager[None]]
) -> None:
    client = world.client
    client.register_dataset(
        "partial", world.frame.drop(columns=["x2", "x3"]), workspace="ml", environment="dev"
    )
    client.register_dataset(
        "texts",
        world.frame.assign(x1=world.frame["x1"].astype(str)),
        workspace="ml",
        environment="dev",
    )
    cases: list[tuple[type[Exception], str, dict[str, object]]] = [
        (NotFound, "model 'nope'", {"model_uri": "models:/nope@champion"}),
        (NotFound, "version", {"model_uri": "models:/churn/7"}),
        (NotFound, "dataset 'nothing'", {"input_ref": "nothing@v1"}),
        (NotFound, "customers", {"input_ref": "customers@v9"}),
        (InvalidInput, "id_column: dev/customers@v1 has no column 'id'", {"id_column": "id"}),
        (InvalidInput, "id_column: 'prediction' is the name", {"id_column": "prediction"}),
        (
            InvalidInput,
            "input: dev/partial@v1 lacks columns 'x2', 'x3' of the signature of models:/churn/1",
            {"input_ref": "partial@v1"},
        ),
        (InvalidInput, "column 'x1' has type string", {"input_ref": "texts@v1"}),
        (
            InvalidInput,
            "error_threshold: must be a share between 0 and 1",
            {"error_threshold": 1.5},
        ),
        (InvalidInput, "chunk_rows: must be a whole number", {"chunk_rows": 0}),
        (InvalidInput, "workers: must be at least 1", {"workers": 0}),
        (InvalidInput, "executor: unknown executor 'spark'", {"executor": "spark"}),
        (InvalidInput, "output:", {"output_name": "no/slash"}),
    ]
    for error, message, change in cases:
        args: dict[str, object] = {
            "model_uri": "models:/churn@champion",
            "input_ref": "customers@v1",
            "output_name": "scores",
            "executor": "inline",
        }
        args |= change
        with unchanged(), pytest.raises(error) as caught:
            run_batch(client, workspace="ml", **args)  # type: ignore[arg-type]
        assert message in caught.value.message, (change, caught.value.message)


def test_a_crashed_job_resumes_from_its_done_chunks(local_client: Client, tmp_path: Path) -> None:
    from tests.batch.conftest import setup_world

    frame = customers(200)
    marker = tmp_path / "crashed-once"
    model = CrashOnce(float(frame["x0"][130]), str(marker))  # row 130: chunk 6 of 10
    setup_world(local_client, tmp_path / "lake", frame, model)
    work = tmp_path / "work"
    job = {
        "workspace": "ml",
        "id_column": "cust",
        "chunk_rows": 20,
        "workers": 1,
        # A worker process even for one worker: the crash takes it down, not this process.
        "executor": "process",
        "work_dir": work,
    }
    with pytest.raises(BatchFailed, match="a worker process died while predicting rows 120–179"):
        run_batch(local_client, "models:/churn@champion", "customers@v1", "scores", **job)  # type: ignore[arg-type]
    assert marker.exists()
    assert len(list((work / "chunks").glob("chunk-*.parquet"))) == 6
    with pytest.raises(NotFound):
        local_client.get_dataset("scores", workspace="ml", environment="dev")

    result = run_batch(local_client, "models:/churn@champion", "customers@v1", "scores", **job)  # type: ignore[arg-type]
    assert (result.chunks, result.resumed_chunks, result.rows) == (10, 6, 200)
    out = _output(local_client)
    assert out["cust"].tolist() == frame["cust"].tolist()
    assert np.allclose(out["prediction"], frame["x0"] * 2)
    assert not work.exists()  # removed once registered
    statuses = sorted(
        r.status for r in local_client.search_runs(workspace="ml", experiment="batch")
    )
    assert statuses == ["failed", "finished"]


def test_one_worker_predicts_in_this_process_and_resumes(
    local_client: Client, tmp_path: Path
) -> None:
    from tests.batch.conftest import setup_world

    frame = customers(200)
    marker = tmp_path / "interrupted-once"
    model = InterruptOnce(float(frame["x0"][130]), str(marker))  # row 130: chunk 6 of 10
    setup_world(local_client, tmp_path / "lake", frame, model)
    work = tmp_path / "work"
    job = {"workspace": "ml", "id_column": "cust", "chunk_rows": 20, "workers": 1}
    # Raised here, not in a worker process: the chunks ran in this process.
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            local_client,
            "models:/churn@champion",
            "customers@v1",
            "scores",
            work_dir=work,
            **job,  # type: ignore[arg-type]
        )
    assert marker.exists()
    # Chunks 0-5 were written whole before the interruption; nothing half-written is left.
    assert sorted(p.name for p in (work / "chunks").iterdir()) == [
        f"chunk-{i:06d}.parquet" for i in range(6)
    ]
    assert not list((work / "tmp").iterdir())
    with pytest.raises(NotFound):
        local_client.get_dataset("scores", workspace="ml", environment="dev")

    result = run_batch(
        local_client,
        "models:/churn@champion",
        "customers@v1",
        "scores",
        work_dir=work,
        **job,  # type: ignore[arg-type]
    )
    assert (result.chunks, result.resumed_chunks, result.rows) == (10, 6, 200)
    out = _output(local_client)
    assert out["cust"].tolist() == frame["cust"].tolist()
    assert np.allclose(out["prediction"], frame["x0"] * 2)
    runs = local_client.search_runs(workspace="ml", experiment="batch")
    assert sorted(r.status for r in runs) == ["finished", "killed"]
    finished = next(r for r in runs if r.status == "finished")
    assert local_client.get_run(finished.id).params["executor"] == "inline"


def test_each_chunk_is_validated_against_the_signature(
    local_client: Client, tmp_path: Path
) -> None:
    """Whole floats for an integer column are converted chunk by chunk; a chunk with a
    fraction among them fails validation as a whole, the others do not."""
    local_client.create_workspace("ml")
    local_client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    n = np.arange(40, dtype="float64")
    n[25] = 2.5  # in chunk 2 (rows 20-29)
    local_client.register_dataset(
        "counts", pd.DataFrame({"n": n}), workspace="ml", environment="dev"
    )
    with local_client.start_run("train", workspace="ml", environment="dev", snapshot=False) as run:
        run.log_model(Twice(), "twice", input_example=pd.DataFrame({"n": np.arange(5)}))
    result = run_batch(
        local_client,
        "models:/twice/1",
        "counts@v1",
        "doubled",
        workspace="ml",
        chunk_rows=10,
        workers=1,
        error_threshold=0.5,
    )
    assert (result.rows, result.failed_rows) == (40, 10)
    out = _output(local_client, "doubled")
    failed = out["_error"].notna()
    assert out.loc[failed, "_row"].tolist() == list(range(20, 30))
    assert out.loc[failed, "_error"].str.contains("column 'n'").all()
    ok = out[~failed]
    assert ok["prediction"].tolist() == [2 * v for v in n[~failed.to_numpy()]]
    # The model was given integers (converted from whole floats): its output is integers.
    import pyarrow.parquet as pq

    path = local_client.load_dataset("doubled@latest", workspace="ml", as_="path")
    assert isinstance(path, Path)
    types = {str(pq.read_schema(f).field("prediction").type) for f in path.glob("*.parquet")}
    assert types == {"int64"}


def test_a_job_reads_its_input_from_its_own_environment(
    local_client: Client, tmp_path: Path
) -> None:
    """A prod job reads prod input; a dev job is refused it (production data never reaches
    dev), whatever the client declared."""
    from tests.batch.conftest import fit, setup_world

    frame = customers(100)
    setup_world(local_client, tmp_path / "lake", frame, fit(frame))
    local_client.create_datastore(
        "ml", "prod", "vault", str(tmp_path / "vault"), classification="production"
    )
    local_client.register_dataset("live", frame, workspace="ml", environment="prod")
    with local_client.start_run("train", workspace="ml", environment="prod", snapshot=False) as run:
        run.log_model(fit(frame), "churn-prod", input_example=frame[FEATURES].head(5))
    job = {"id_column": "cust", "executor": "inline", "workspace": "ml"}
    done = run_batch(
        local_client, "models:/churn-prod/1", "live@v1", "scores", environment="prod", **job
    )
    assert (done.rows, done.output.environment, done.output.classification) == (
        100,
        "prod",
        "production",
    )
    with pytest.raises(PermissionDenied, match="production"):
        run_batch(
            local_client, "models:/churn@champion", "prod/live@v1", "leak", environment="dev", **job
        )
    assert local_client.transport.acting is None  # what the client declared is restored
