"""The metadata database: SQLite under MODELWRIGHT_HOME (WAL, busy timeout) or PostgreSQL
from MODELWRIGHT_DB_URL; one transaction per unit of work; timezone-aware times."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from modelwright.core.context import Caller
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.settings import Settings
from modelwright.store import schema
from modelwright.store.db import SQLITE_BUSY_TIMEOUT_MS, create_db_engine, is_sqlite


def test_sqlite_lives_under_modelwright_home_in_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "mw-home"
    monkeypatch.setenv("MODELWRIGHT_HOME", str(home))
    monkeypatch.delenv("MODELWRIGHT_DB_URL", raising=False)
    settings = Settings()
    assert settings.database_url == f"sqlite:///{(home / 'modelwright.db').resolve()}"
    platform = Platform(settings)
    try:
        assert (home / "modelwright.db").is_file()
        with platform.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert SQLITE_BUSY_TIMEOUT_MS >= 5_000
    finally:
        platform.close()


def test_postgres_comes_from_modelwright_db_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://someone@db.example:5432/mw"
    monkeypatch.setenv("MODELWRIGHT_DB_URL", url)
    settings = Settings()
    assert settings.database_url == url
    assert not is_sqlite(url)
    assert is_sqlite(Settings(db_url=None).database_url)


def test_the_platform_runs_on_the_configured_database(platform: Platform, db: str) -> None:
    assert platform.engine.dialect.name == {"sqlite": "sqlite", "postgres": "postgresql"}[db]
    with platform.engine.connect() as conn:
        assert conn.execute(select(schema.Principal.name)).scalars().all() == [LOCAL_ADMIN]


def test_times_are_stored_and_read_as_aware_utc(platform: Platform) -> None:
    plus_two = datetime(2030, 5, 6, 9, 10, 11, 123456, tzinfo=timezone(timedelta(hours=2)))
    admin = platform.caller(LOCAL_ADMIN)
    with platform.unit(admin) as ctx:
        ctx.session.add(schema.Principal(name="t", kind="user", created_at=plus_two))
    with platform.unit(admin) as ctx:
        stored = ctx.session.scalar(select(schema.Principal).where(schema.Principal.name == "t"))
        assert stored is not None
        assert stored.created_at == plus_two
        assert stored.created_at.tzinfo is not None
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at.hour == 7
    with pytest.raises(StatementError, match="naive datetime"), platform.unit(admin) as ctx:
        ctx.session.add(
            schema.Principal(name="naive", kind="user", created_at=datetime(2030, 1, 1))
        )


def test_a_failed_unit_of_work_leaves_nothing_behind(platform: Platform) -> None:
    admin = platform.caller(LOCAL_ADMIN)

    class Boom(Exception):
        pass

    def half_done() -> None:
        with platform.unit(admin) as ctx:
            ctx.session.add(
                schema.Principal(name="half-done", kind="user", created_at=datetime.now(UTC))
            )
            ctx.session.flush()
            ctx.audit("principal.create", target="principal/half-done")
            raise Boom

    with pytest.raises(Boom):
        half_done()
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM principals")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == 0


def test_foreign_keys_are_enforced(platform: Platform) -> None:
    with (
        pytest.raises(Exception, match=r"(?i)foreign key"),
        platform.unit(Caller(name="", principal_id=0)) as ctx,
    ):
        ctx.session.add(
            schema.Grant(principal_id=9999, role_id=9999, workspace="w", environment="*")
        )


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from modelwright.client import Client, LocalTransport
    from modelwright.core.platform import Platform
    from modelwright.settings import Settings

    home, url, prefix, go = sys.argv[1], sys.argv[2] or None, sys.argv[3], Path(sys.argv[4])
    client = Client(LocalTransport(Platform(Settings(home=home, db_url=url))))
    Path(go.parent / f"ready-{prefix}").touch()
    while not go.exists():
        time.sleep(0.005)
    for i in range(25):
        client.create_principal(f"{prefix}-{i}")
        client.check_access("data.read", "*")
    client.close()
    """
)


def test_concurrent_writers_from_several_processes_all_succeed(
    platform: Platform, tmp_path: Path
) -> None:
    settings = platform.settings
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(settings.home), settings.db_url or "", p, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in ("a", "b", "c")
    ]
    try:
        _release_when_ready(tmp_path, ["a", "b", "c"], go, procs)
        outcomes = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, outcomes, strict=True):
        assert p.returncode == 0, err
    with platform.engine.connect() as conn:
        names = set(conn.execute(select(schema.Principal.name)).scalars())
        events = conn.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'principal.create'")
        ).scalar()
    assert names == {LOCAL_ADMIN} | {f"{p}-{i}" for p in "abc" for i in range(25)}
    assert events == 75


def _release_when_ready(
    folder: Path, names: list[str], go: Path, procs: list[subprocess.Popen[str]]
) -> None:
    """Start every process's work at the same moment, once all have imported and connected."""
    import time

    deadline = time.monotonic() + 60
    while not all((folder / f"ready-{n}").exists() for n in names):
        failed = [p for p in procs if p.poll() not in (None, 0)]
        if failed:
            raise AssertionError(failed[0].communicate()[1])
        assert time.monotonic() < deadline, "the writer processes did not start"
        time.sleep(0.01)
    go.touch()


def test_create_db_engine_makes_the_sqlite_folder(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "x.db"
    engine = create_db_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert path.is_file()
    finally:
        engine.dispose()
