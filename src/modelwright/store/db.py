"""Engines and sessions for the metadata database (SQLite embedded, PostgreSQL for teams)."""

from __future__ import annotations

import functools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, bindparam, create_engine, event, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from modelwright.errors import ModelwrightError, ServiceUnavailable, StorageError

__all__ = [
    "create_db_engine",
    "database_error",
    "insert_missing",
    "insert_one_missing",
    "is_sqlite",
    "reading_only",
    "session_factory",
]

# Long enough to ride out another process's migration or a burst of writers.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_READING_ONLY: ContextVar[bool] = ContextVar("modelwright_reading_only", default=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_db_engine(url: str) -> Engine:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locking; take the write lock at BEGIN instead
        # so concurrent writers queue on busy_timeout rather than failing on upgrade. A unit
        # that only reads (``reading_only``) begins deferred: it never waits for a writer.
        event.listen(
            engine,
            "begin",
            lambda conn: conn.exec_driver_sql(
                "BEGIN" if _READING_ONLY.get() else "BEGIN IMMEDIATE"
            ),
        )
        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def reading_only() -> Iterator[None]:
    """Transactions begun in this block (in this thread or task) only read: on SQLite they
    take no write lock, so permission checks do not queue behind other processes' writes."""
    token = _READING_ONLY.set(True)
    try:
        yield
    finally:
        _READING_ONLY.reset(token)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _enable_wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _enable_wal(cur: Any) -> None:
    """Switch the file to WAL (persistent, so usually already done).

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once rather
    than waiting out the busy timeout when another process holds one; that happens when
    several processes open a fresh database together. Wait and retry instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _insert_ignoring_conflicts(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return insert(table)


def insert_one_missing(session: Session, table: Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` unless its unique key exists; return whether this call inserted it.

    On PostgreSQL a row that another transaction inserted and has not committed yet makes
    this wait for that transaction: it then sees the row (committed) or inserts its own
    (rolled back). Either way a following select in the same transaction sees the row.
    """
    conn = session.connection()  # Core, in the session's transaction: no ORM machinery
    stmt = _insert_one_statement(conn.dialect.name, table, tuple(sorted(row)))
    # RETURNING rather than the row count, which not every driver keeps for this statement.
    return conn.execute(stmt, row).first() is not None


@functools.cache
def _insert_one_statement(dialect: str, table: Table, columns: tuple[str, ...]) -> Any:
    # Built once per table and columns: statements are cheap to run, not to build.
    if dialect == "sqlite":
        stmt: Any = sqlite.insert(table).on_conflict_do_nothing()
    elif dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    else:
        stmt = insert(table)
    return stmt.values({c: bindparam(c) for c in columns}).returning(*table.primary_key)


def insert_missing(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those whose unique key exists already, in one statement.

    ``INSERT … ON CONFLICT DO NOTHING``: two transactions inserting the same row at once both
    succeed (the first row stays), where a select-then-insert would make one of them fail.
    """
    if not rows:
        return
    session.execute(_insert_ignoring_conflicts(session, table), rows)


# SQLite's result codes and PostgreSQL's SQLSTATEs (prefixes) saying that the database cannot
# answer now (retry) or cannot store (a storage error); any other driver error is a bug and
# stays one. https://www.sqlite.org/rescode.html and PostgreSQL's "Errcodes" appendix.
_RETRY = ("SQLITE_BUSY", "SQLITE_LOCKED", "08", "57P", "40001", "40P01", "53300", "55P03")
_STORAGE = {
    "SQLITE_FULL": "full",
    "53100": "full",  # disk_full
    "SQLITE_READONLY": "read-only",
    "25006": "read-only",  # read_only_sql_transaction (a standby)
    "SQLITE_CANTOPEN": "not-writable",
    "SQLITE_IOERR": "io",
    "58": "io",  # system_error, io_error
}
_REASONS = {
    "full": "no space is left on its disk",
    "read-only": "it is read-only",
    "not-writable": "its file cannot be opened for writing",
    "io": "its disk reported an I/O error",
}


def database_error(exc: sa_exc.DBAPIError) -> ModelwrightError | None:
    """The platform error for a driver error of the metadata database, or None for a bug.

    A connection the server dropped or terminated, a lock held past the busy timeout, a
    serialisation failure: ``ServiceUnavailable`` (the unit was rolled back, or its commit
    is in doubt: retry it; writes that carry an idempotency key are applied once). A full
    disk or a read-only database: ``StorageError``.
    """
    orig = exc.orig
    reason = str(orig).strip().splitlines()[0] if orig is not None else type(exc).__name__
    code = str(getattr(orig, "sqlite_errorname", None) or getattr(orig, "sqlstate", None) or "")
    for prefix, kind in _STORAGE.items():
        if code.startswith(prefix):
            return StorageError(
                f"the metadata database cannot store this: {_REASONS[kind]} ({reason})",
                details={"store": "metadata database", "reason": kind},
            )
    dropped = not code and isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    if exc.connection_invalidated or code.startswith(_RETRY) or dropped:
        # psycopg gives no SQLSTATE when the server closes the connection under it.
        return ServiceUnavailable(
            f"the metadata database is unavailable ({reason}); retry the request",
            details={"store": "metadata database"},
        )
    return None
