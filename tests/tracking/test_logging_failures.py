"""The background logger never drops points silently: a database that refuses for a while
(SQLite locked past its busy timeout, PostgreSQL connections terminated) delays points but
loses none; an error it cannot retry is raised, and a run is never ended as finished while
points it was given are unsent."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from tests.conftest import Connector

from modelwright.client import Client, LocalTransport
from modelwright.client._logger import BatchLogger
from modelwright.core.platform import Platform
from modelwright.errors import Conflict, ModelwrightError, ServiceUnavailable
from modelwright.settings import Settings
from modelwright.store import db as store_db
from modelwright.tracking.models import LogBatch


def _stored(client: Client, run_id: str) -> list[int]:
    return client.metric_history(run_id, "m").steps


def _log(run: object, steps: range, pause_every: int = 0) -> None:
    for i in steps:
        run.log_metric("m", float(i), step=i)  # type: ignore[attr-defined]
        if pause_every and i % pause_every == 0:
            time.sleep(0.01)  # let the background sender try while the database refuses


@contextmanager
def _sqlite_locked(path: Path) -> Iterator[None]:
    """Another connection holds SQLite's write lock for as long as the block runs."""
    locker = sqlite3.connect(path, timeout=0, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


@pytest.fixture
def sqlite_client(db: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """An embedded client on SQLite whose busy timeout is short enough to run out in a test."""
    if db != "sqlite":
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "0.05")
    client = Client(LocalTransport(Platform(settings)))
    client.create_workspace("ml")
    yield client
    client.close()


def test_points_logged_while_sqlite_is_locked_past_its_busy_timeout_are_all_stored(
    sqlite_client: Client, settings: Settings
) -> None:
    run = sqlite_client.start_run("x", workspace="ml")
    _log(run, range(1000))
    run.flush()
    with _sqlite_locked(settings.home / "modelwright.db"):
        _log(run, range(1000, 2000), pause_every=100)
        time.sleep(0.5)  # several sends run out of the busy timeout meanwhile
    assert run.end().status == "finished"
    assert _stored(sqlite_client, run.id) == list(range(2000))


def test_a_run_is_not_ended_as_finished_while_points_are_unsent(
    sqlite_client: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELWRIGHT_FLUSH_TIMEOUT", "0.5")
    run = sqlite_client.start_run("x", workspace="ml")
    with _sqlite_locked(settings.home / "modelwright.db"):
        _log(run, range(2000))
        with pytest.raises(ServiceUnavailable, match=r"2000 metric points of run .* unsent"):
            run.end()
    assert sqlite_client.get_run(run.id).status != "finished"


def _terminate_once_one_waits(admin: Connection, database: str, spare: list[int]) -> int:
    """Wait until a connection of the platform waits for the held lock, then terminate every
    connection to ``database`` but those in ``spare``."""
    deadline = time.monotonic() + 20
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'"
    )
    while not admin.execute(waiting, {"db": database}).scalar():
        assert time.monotonic() < deadline, "no sender waited for the lock"
        time.sleep(0.02)
    killed = admin.execute(
        text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :db AND NOT pid = ANY(:spare)"
        ),
        {"db": database, "spare": spare},
    ).scalar()
    return int(killed or 0)


@pytest.mark.postgres
def test_points_logged_while_postgres_terminates_the_connections_are_all_stored(
    db: str, connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db != "postgres":
        pytest.skip("pg_terminate_backend")
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "0.05")
    client = connector.admin()
    client.create_workspace("ml")
    run = client.start_run("x", workspace="ml")
    _log(run, range(1000))
    run.flush()
    url = connector.settings.db_url
    assert url is not None
    database = url.rsplit("/", 1)[1]
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as held, engine.connect() as killer:
            held.execute(text("BEGIN"))
            held.execute(text("LOCK TABLE run_metrics IN EXCLUSIVE MODE"))
            _log(run, range(1000, 2000))
            # The sender is inside its transaction, waiting for the lock, when it is cut off.
            spare = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in (held, killer)]
            assert _terminate_once_one_waits(killer, database, spare) >= 1  # type: ignore[arg-type]
            held.execute(text("ROLLBACK"))
    finally:
        engine.dispose()
    assert run.end().status == "finished"
    assert _stored(client, run.id) == list(range(2000))


class _Refusing:
    """A send that fails the way a bug or an unexpected error does."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.calls = 0

    def __call__(self, batch: LogBatch) -> object:
        self.calls += 1
        raise self.error


def test_an_unexpected_error_does_not_stop_the_sender_and_is_raised_by_the_next_call() -> None:
    send = _Refusing(RuntimeError("disk controller on fire"))
    logger = BatchLogger("0" * 32, send, interval=0.02)
    logger.metric("m", 1.0, 0, None)
    deadline = time.monotonic() + 5
    while send.calls == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)
    with pytest.raises(ModelwrightError, match=r"1 metric point of run 0{32} was not stored.*fire"):
        logger.metric("m", 2.0, 1, None)
    assert logger._thread.is_alive()  # the sender lives on and keeps sending what comes
    send.error = Conflict("run is finished")
    logger.metric("m", 3.0, 2, None)
    with pytest.raises(Conflict, match=r"1 metric point .* not stored: run is finished"):
        logger.flush()
    logger.close()


def test_a_refused_batch_is_reported_by_end_when_nothing_was_logged_after_it(
    client: Client,
) -> None:
    client.create_workspace("ml")
    run = client.start_run("x", workspace="ml")
    run.log_param("depth", 5)
    run.flush()
    client.log_batch(run.id, params={"lr": "0.1"})
    run.log_param("lr", 0.2)  # refused by the server in the background: params are immutable
    with pytest.raises(Conflict, match="params are immutable"):
        run.end()
    assert client.get_run(run.id).status == "failed"


def test_the_sender_thread_survives_many_transient_failures() -> None:
    attempts: list[float] = []
    ok = threading.Event()

    def flaky(batch: LogBatch) -> object:
        attempts.append(time.monotonic())
        if len(attempts) < 4:
            raise ServiceUnavailable("database unavailable")
        ok.set()
        return None

    logger = BatchLogger("0" * 32, flaky, interval=0.01)
    logger.metric("m", 1.0, 0, None)
    assert ok.wait(10), "the batch was never sent"
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps == sorted(gaps)  # backing off, not hammering
    logger.close()
