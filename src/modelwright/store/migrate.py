"""Apply Alembic migrations once, safely, when several processes start at the same moment.

PostgreSQL: a session-level advisory lock serialises migrators across machines.
SQLite: a file lock beside the database does the same across processes on one machine.
Either way the second process finds the schema at head and does nothing.

Every process that opens the platform asks whether the schema is at head. Importing Alembic to
answer costs a cold process more than the rest of opening the database (it brings Mako and
Pygments), so the usual answer, "yes", is found without it: the head is read from the
migration files' ``revision``/``down_revision`` lines, the database's revision with one query.
Alembic is imported only when there is something to migrate, or when those lines are not a
plain linear history.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url

from modelwright.store.db import is_sqlite

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary constant shared by every modelwright process: "mwmigrat" as an int64.
_PG_LOCK_KEY = 0x6D776D6967726174
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.M)


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


@functools.cache
def head_revision() -> str:
    # Cached: every Platform start asks, and reading the scripts costs milliseconds.
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise RuntimeError("no migrations found")
    return head


@functools.cache
def scanned_head() -> str | None:
    """The head revision read from the migration files without Alembic; None unless every
    file names one revision and one parent (or none) and exactly one revision is a head."""
    revisions: set[str] = set()
    parents: set[str | None] = set()
    for script in sorted((_MIGRATIONS / "versions").glob("*.py")):
        found: dict[str, list[str]] = {}
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(value)
        if len(found.get("revision", [])) != 1 or len(found.get("down_revision", [])) != 1:
            return None
        try:
            revision = ast.literal_eval(found["revision"][0])
            parent = ast.literal_eval(found["down_revision"][0])
        except (ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (parent is None or isinstance(parent, str)):
            return None
        revisions.add(revision)
        parents.add(parent)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _stored_revisions(conn: Connection) -> list[str]:
    if not inspect(conn).has_table("alembic_version"):
        return []
    return [str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()]


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; cheap when it is already there."""
    head = scanned_head()
    if head is not None:
        with engine.connect() as conn:
            if _stored_revisions(conn) == [head]:
                return
    head = head_revision()
    with engine.connect() as conn:
        if current_revision(conn) == head:
            return
    from alembic import command

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
