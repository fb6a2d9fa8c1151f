"""Shared fixtures: a fresh metadata store per test on SQLite and on PostgreSQL, clients over
both backends (in process and HTTP against a real uvicorn server)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine, MetaData, create_engine, select, text

import modelwright
from modelwright.client import Client
from modelwright.core.platform import Platform
from modelwright.server import create_app
from modelwright.server.run import uvicorn_options
from modelwright.settings import Settings
from modelwright.store import schema
from modelwright.store.db import create_db_engine
from modelwright.store.migrate import upgrade

# A run a test leaves open, whose server is gone by the end, holds the test process at exit
# for this long at most (its logger retries sending what it holds).
os.environ.setdefault("MODELWRIGHT_FLUSH_TIMEOUT", "5")

PG_ADMIN_URL = os.environ.get(
    "MODELWRIGHT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@contextmanager
def pg_scratch_database(prefix: str = "mw_t", template: str | None = None) -> Iterator[str]:
    """A PostgreSQL database of its own (optionally copied from ``template``), dropped after."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    clause = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class PgResettable:
    """A migrated database that is put back to its just-migrated state before each test.

    Copying a template database costs a few hundred milliseconds (PostgreSQL syncs the new
    files to disk); deleting the rows of a few small tables and restoring the seeded ones
    costs a few. Tables are reflected, so tables added by later migrations are covered too.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.url = pg_url(name)
        engine = create_db_engine(self.url)
        upgrade(engine)
        engine.dispose()
        # Pinged on checkout: a test may terminate every connection to the database.
        self.engine = create_engine(self.url, pool_pre_ping=True)
        self.metadata = MetaData()
        with self.engine.begin() as conn:
            self.metadata.reflect(conn)
            # No dependency order needed: the reset runs with foreign key triggers off.
            self.tables = [t for t in self.metadata.tables.values() if t.name != "alembic_version"]
            self.seeds = {
                t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in self.tables
            }
            self.sequences = [
                (t.name, c.name, seq)
                for t in self.tables
                for c in t.primary_key.columns
                if (
                    seq := conn.scalar(
                        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": c.name}
                    )
                )
            ]

    def reset(self) -> None:
        with self.engine.begin() as conn:
            # Connections a previous test left open would hold locks; a fresh copy has none.
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": self.name},
            )
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for table in self.tables:
                conn.execute(table.delete())
            for table in self.tables:
                if self.seeds[table.name]:
                    conn.execute(table.insert(), self.seeds[table.name])
            for table, column, seq in self.sequences:
                conn.execute(
                    text(
                        f'SELECT setval(:seq, COALESCE((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'
                    ),
                    {"seq": seq},
                )

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[PgResettable]:
    """This test process's PostgreSQL database, migrated once."""
    with pg_scratch_database("mw_w") as name:
        resettable = PgResettable(name)
        yield resettable
        resettable.close()


@pytest.fixture
def pg_database(pg_template: PgResettable) -> str:
    """The URL of a PostgreSQL database in its just-migrated state, for this test alone."""
    pg_template.reset()
    return pg_template.url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> str:
    """The database kind of the test: every store-backed test runs on both."""
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file made once per test process; each test starts from a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "modelwright.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def settings(db: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    home = tmp_path / "home"
    # Explicit values, so that MODELWRIGHT_* variables of the shell never leak into a test.
    # Datastores may live in the test's directory (a few tests name fixed URLs under
    # /tmp/scratch), in memory and in the test S3 server.
    roots = [str(tmp_path), "/tmp/scratch", "/tmp/scratch2", "/tmp/plain", "memory://", "s3://"]
    if db == "postgres":
        url = request.getfixturevalue("pg_database")
        return Settings(home=home, db_url=url, require_auth=False, datastore_roots=roots)
    home.mkdir()
    shutil.copyfile(request.getfixturevalue("sqlite_template"), home / "modelwright.db")
    return Settings(home=home, db_url=None, require_auth=False, datastore_roots=roots)


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    p = Platform(settings)
    yield p
    p.close()


class LiveServer:
    """A real uvicorn server on a free loopback port, run in a thread, configured as
    ``modelwright server`` configures it. ``app`` defaults to the REST app over ``platform``."""

    def __init__(self, platform: Platform, *, app: FastAPI | None = None) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(
            app or create_app(platform),
            **uvicorn_options(host="127.0.0.1", port=self.port, log_level="warning"),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(platform: Platform) -> Iterator[LiveServer]:
    with LiveServer(platform) as live:
        yield live


@pytest.fixture
def local_client(settings: Settings) -> Iterator[Client]:
    """The in-process backend, acting as the seeded local admin."""
    with modelwright.connect(settings.home) if settings.db_url is None else _connect(settings) as c:
        yield c


def _connect(settings: Settings, **kw: Any) -> Client:
    from modelwright.client import LocalTransport

    return Client(LocalTransport(Platform(settings), **kw))


@pytest.fixture(params=["local", "http"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Connector:
    """Makes clients of the test's backend kind, as the local admin or with a token."""

    def __init__(self, kind: str, settings: Settings, platform: Platform) -> None:
        self.kind = kind
        self.settings = settings
        self.platform = platform
        self._server: LiveServer | None = None
        self._admin_token: str | None = None
        self._local_admin: Client | None = None
        self._clients: list[Client] = []

    @property
    def local_admin(self) -> Client:
        """An in-process admin client whatever the backend: for set-up and for checking state."""
        if self._local_admin is None:
            self._local_admin = self._keep(_connect(self.settings))
        return self._local_admin

    @property
    def url(self) -> str:
        """The base URL of the live server (started on first use)."""
        if self._server is None:
            self._server = LiveServer(self.platform).__enter__()
        return self._server.url

    def admin(self) -> Client:
        if self.kind == "local":
            return self._keep(_connect(self.settings))
        if self._admin_token is None:
            self._admin_token = self.local_admin.create_token(name="test-admin").secret
        return self.as_token(self._admin_token)

    def as_token(self, token: str) -> Client:
        if self.kind == "local":
            return self._keep(_connect(self.settings, token=token))
        return self._keep(modelwright.connect(self.url, token=token))

    def as_principal(self, name: str) -> Client:
        """A client acting as ``name``: through a fresh token of theirs on both backends."""
        secret = self.local_admin.create_token(principal=name, name="test").secret
        return self.as_token(secret)

    def _keep(self, client: Client) -> Client:
        self._clients.append(client)
        return client

    def close(self) -> None:
        for c in self._clients:
            c.close()
        if self._server is not None:
            self._server.__exit__()


@pytest.fixture
def connector(backend: str, settings: Settings, platform: Platform) -> Iterator[Connector]:
    conn = Connector(backend, settings, platform)
    yield conn
    conn.close()


@pytest.fixture
def client(connector: Connector) -> Client:
    """An admin client over the test's backend (local or HTTP) and database (SQLite or PG)."""
    return connector.admin()


def snapshot(platform: Platform) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every metadata table: what a failed request must leave exactly as it was
    (including the audit trail, which must not record a change that did not happen)."""
    with platform.engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in schema.Base.metadata.sorted_tables
        }


@pytest.fixture
def unchanged(connector: Connector) -> Callable[[], AbstractContextManager[None]]:
    """``with unchanged(): <failing request>`` asserts that the state is exactly as before."""

    @contextmanager
    def check() -> Iterator[None]:
        before = snapshot(connector.platform)
        yield
        after = snapshot(connector.platform)
        changed = sorted(name for name in before if before[name] != after[name])
        assert not changed, f"a failed request changed the platform state: {changed}"

    return check


@pytest.fixture(scope="session", autouse=True)
def _forget_runs_left_open() -> Iterator[None]:
    """Runs a test left open belong to platforms that are gone once the session ends: their
    loggers are dropped, so the flush at interpreter exit has nothing to report after the
    test summary."""
    yield
    from modelwright.client import _logger

    _logger._LIVE.clear()
