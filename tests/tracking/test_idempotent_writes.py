"""Retried writes are applied once. A server that stalls (here: its database waits for a lock
another connection holds) past the client's timeout still commits the request; the client
sends it again with the same idempotency key, and the platform stores it once and answers
the second time as it did the first."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text, update
from tests.conftest import Connector

from modelwright.api import operations as base_ops
from modelwright.api import tracking as ops
from modelwright.client import Client, HttpTransport
from modelwright.core import platform as platform_module
from modelwright.core.context import utcnow
from modelwright.errors import Conflict, ServiceUnavailable
from modelwright.pipelines import models as pm
from modelwright.store import schema

HELD = 1.5  # seconds the lock is held: three times the client's timeout


@contextmanager
def _stalled(connector: Connector, table: str) -> Iterator[None]:
    """The server's writes to ``table`` wait for as long as the block runs."""
    settings = connector.settings
    if settings.db_url is None:
        locker = sqlite3.connect(settings.home / "modelwright.db", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        return
    engine = create_engine(settings.db_url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


@contextmanager
def _stall_for(connector: Connector, table: str, seconds: float) -> Iterator[None]:
    """Like ``_stalled``, released after ``seconds`` by a timer while the block goes on."""
    import threading

    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _stalled(connector, table):
            entered.set()
            release.wait(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    entered.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


@pytest.fixture
def impatient(connector: Connector) -> Client:
    """An HTTP client that gives up on a request after half a second."""
    if connector.kind != "http":
        pytest.skip("a client timeout is HTTP's")
    token = connector.local_admin.create_token(name="impatient").secret
    return connector._keep(Client(HttpTransport(connector.url, token=token, timeout=0.5)))


@pytest.fixture
def run_id(connector: Connector) -> str:
    admin = connector.local_admin
    admin.create_workspace("ml")
    return admin.start_run("x", workspace="ml").id


def _steps(connector: Connector, run_id: str) -> list[int]:
    return connector.local_admin.metric_history(run_id, "m").steps


def _audited(connector: Connector, action: str) -> int:
    with connector.platform.engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(schema.AuditEvent)
                .where(schema.AuditEvent.action == action)
            )
            or 0
        )


def test_buffered_points_resent_after_a_client_timeout_are_stored_once(
    connector: Connector, impatient: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "0.05")
    connector.local_admin.create_workspace("ml")
    run = impatient.start_run("x", workspace="ml")
    for i in range(500):
        run.log_metric("m", float(i), step=i)
    run.flush()
    with _stalled(connector, "run_metrics"):
        for i in range(500, 1000):
            run.log_metric("m", float(i), step=i)
        time.sleep(HELD)  # the sender times out and sends the batch again, more than once
    run.end()
    assert _steps(connector, run.id) == list(range(1000))


def test_a_batch_sent_again_after_a_timeout_is_stored_once_and_answered_the_same(
    connector: Connector, impatient: Client, run_id: str
) -> None:
    points = [("m", float(i), i, 0) for i in range(100)]
    with _stall_for(connector, "run_metrics", HELD):
        result = impatient.log_batch(run_id, metrics=points)  # sent again until answered
    assert (result.metrics, result.params, result.tags) == (100, 0, 0)
    assert _steps(connector, run_id) == list(range(100))


def test_artifacts_recorded_again_after_a_timeout_are_recorded_once(
    connector: Connector, impatient: Client, run_id: str, tmp_path: object
) -> None:
    from pathlib import Path

    file = Path(str(tmp_path)) / "model.bin"
    file.write_bytes(b"weights")
    with _stall_for(connector, "run_artifacts", HELD):
        recorded = impatient.log_artifact(run_id, file)
    assert [a.path for a in recorded] == ["model.bin"]
    assert _audited(connector, "run.log_artifacts") == 1


def test_a_pipeline_record_sent_again_after_a_timeout_is_recorded_once(
    connector: Connector, impatient: Client, run_id: str
) -> None:
    node = pm.NodeRun(
        node="train",
        run_id="a" * 32,
        status="finished",
        started_at=utcnow() - timedelta(seconds=1),
        ended_at=utcnow(),
    )
    with _stall_for(connector, "runs", HELD):
        recorded = impatient.record_pipeline_run(run_id, "p", [node])
    assert recorded.run_ids == {"train": "a" * 32}
    assert _audited(connector, "pipeline.nodes.record") == 1


def test_a_write_without_a_key_is_not_sent_again_after_a_timeout(
    connector: Connector, impatient: Client
) -> None:
    with (
        _stall_for(connector, "principals", HELD),
        pytest.raises(ServiceUnavailable, match="may have been applied: not sent again"),
    ):
        impatient.create_principal("vera")
    deadline = time.monotonic() + 10
    while _audited(connector, "principal.create") == 0:
        assert time.monotonic() < deadline, "the first request never completed"
        time.sleep(0.05)
    assert [p.name for p in connector.local_admin.list_principals()].count("vera") == 1
    assert _audited(connector, "principal.create") == 1


def test_a_key_is_answered_the_same_on_both_backends_and_refused_for_another_write(
    client: Client, run_id: str
) -> None:
    points = {"keys": ["m"], "values": [1.0], "steps": [0], "timestamps": [0]}
    first = client.call(ops.LOG_BATCH, run_id=run_id, metrics=points, idempotency_key="k" * 32)
    again = client.call(ops.LOG_BATCH, run_id=run_id, metrics=points, idempotency_key="k" * 32)
    assert first == again
    assert client.metric_history(run_id, "m").steps == [0]
    other = client.start_run("x", workspace="ml").id
    with pytest.raises(Conflict, match=r"idempotency_key: 'k{32}' was used for another request"):
        client.call(ops.LOG_BATCH, run_id=other, metrics=points, idempotency_key="k" * 32)
    with pytest.raises(Conflict, match="was used for another request"):
        client.call(
            ops.LOG_ARTIFACTS,
            run_id=run_id,
            artifacts=[{"path": "a", "digest": "0" * 64, "size": 1}],
            idempotency_key="k" * 32,
        )


def test_keys_are_forgotten_after_the_retention(
    connector: Connector, run_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = connector.local_admin
    points = {"keys": ["m"], "values": [1.0], "steps": [0], "timestamps": [0]}
    for key in ("old" * 8, "new" * 8):
        client.call(ops.LOG_BATCH, run_id=run_id, metrics=points, idempotency_key=key)
    keys = schema.IdempotencyKey.__table__
    retention = connector.settings.idempotency_retention_hours
    with connector.platform.engine.begin() as conn:
        conn.execute(
            update(keys)
            .where(keys.c.key == "old" * 8)
            .values(created_at=utcnow() - timedelta(hours=retention, minutes=1))
        )
    monkeypatch.setattr(platform_module, "_SWEEP_EVERY", 0.0)
    client.call(base_ops.CREATE_PRINCIPAL, name="sweeper")  # any write sweeps when due
    with connector.platform.engine.connect() as conn:
        kept = set(conn.scalars(select(keys.c.key)))
    assert "new" * 8 in kept
    assert "old" * 8 not in kept
