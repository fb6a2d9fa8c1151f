"""Batch inference and a leaderboard submitted as jobs and done by a worker, in a child
process, as the submitter: the same outputs as run in the caller's process."""

from __future__ import annotations

from tests.batch.conftest import World, fit, log_model
from tests.conftest import Connector

from modelwright.jobs import models as jm
from modelwright.workflows import Worker


def test_a_submitted_batch_job_registers_the_predictions(
    world: World, connector: Connector
) -> None:
    client = world.client
    job = client.submit_job(
        jm.BatchRunSpec(
            model="models:/churn@champion",
            input="customers@v1",
            output="scores",
            id_column="cust",
            chunk_rows=100,
            executor="inline",
        ),
        workspace="ml",
        environment="dev",
    )
    Worker(connector.platform).run_once()
    done = client.wait_job(job.id, timeout=120)
    assert done.status == "succeeded", done.error
    assert (done.result["rows"], done.result["chunks"], done.result["failed_rows"]) == (300, 3, 0)
    assert (done.result["output"]["name"], done.result["output"]["version"]) == ("scores", 1)
    out = client.load_dataset("scores@v1", workspace="ml", environment="dev")
    expected = world.model.predict(world.frame[["x0", "x1", "x2", "x3"]])
    assert (out.sort_values("cust")["prediction"].to_numpy() == expected).all()


def test_a_submitted_leaderboard_ranks_on_the_holdout_and_moves_the_challenger(
    world: World, connector: Connector
) -> None:
    client = world.client
    weak = fit(world.frame.assign(label=world.frame["x3"] > 0))  # learns the wrong thing
    log_model(client, weak, world.frame)
    job = client.submit_job(
        jm.LeaderboardSpec(
            name="churn",
            metric="accuracy",
            dataset="customers@v1",
            label="label",
            set_challenger=True,
        ),
        workspace="ml",
        environment="dev",
    )
    Worker(connector.platform).run_once()
    done = client.wait_job(job.id, timeout=120)
    assert done.status == "succeeded", done.error
    assert [e["version"] for e in done.result] == [1, 2]
    assert done.result[0]["value"] > done.result[1]["value"]
    assert client.get_model_version("models:/churn@challenger", workspace="ml").version == 1


def test_a_failing_batch_job_fails_with_the_reason(world: World, connector: Connector) -> None:
    client = world.client
    job = client.submit_job(
        jm.BatchRunSpec(model="models:/churn/9", input="customers@v1", output="scores"),
        workspace="ml",
        environment="dev",
    )
    Worker(connector.platform).run_once()
    done = client.wait_job(job.id, timeout=120)
    assert done.status == "failed"
    assert done.error is not None and "version 9" in done.error
