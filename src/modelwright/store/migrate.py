"""Apply Alembic migrations once, safely, when several processes start at the same moment.

PostgreSQL: a session-level advisory lock serialises migrators across machines.
SQLite: a file lock beside the database does the same across processes on one machine.
Either way the second process finds the schema at head and does nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from modelwright.store.db import is_sqlite

__all__ = ["current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary constant shared by every modelwright process: "mwmigrat" as an int64.
_PG_LOCK_KEY = 0x6D776D6967726174


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


@functools.cache
def head_revision() -> str:
    # Cached: every Platform start asks, and reading the scripts costs milliseconds.
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; cheap when it is already there."""
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return
    with _migration_lock(engine), engine.connect() as conn:
        if current_revision(conn) == head:  # another process won the race
            return
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    url = str(engine.url)
    if is_sqlite(url):
        database = make_url(url).database or ""
        if database in {"", ":memory:"}:
            yield
            return
        with FileLock(database + ".migrate.lock", timeout=120):
            yield
        return
    with engine.connect() as lock_conn:
        lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
        try:
            yield
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
            lock_conn.commit()
