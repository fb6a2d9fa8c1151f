"""Alembic migrations: applied automatically, once, even when several processes start at the
same moment on a fresh SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from tests.conftest import pg_scratch_database, pg_url

from modelwright.core.actions import BUILTIN_ROLES
from modelwright.store import schema
from modelwright.store.db import create_db_engine
from modelwright.store.migrate import _config, current_revision, head_revision, upgrade


@pytest.fixture
def fresh_url(db: str, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database."""
    if db == "postgres":
        with pg_scratch_database("mw_mig") as name:
            yield pg_url(name)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
def fresh_engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_db_engine(fresh_url)
    yield engine
    engine.dispose()


def _assert_at_head_and_seeded_once(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [
            head_revision()
        ]
        roles = conn.execute(text("SELECT name FROM roles WHERE builtin")).scalars().all()
        assert sorted(roles) == sorted(BUILTIN_ROLES)
        admins = conn.execute(text("SELECT id FROM principals WHERE name = 'admin'")).all()
        assert len(admins) == 1
        assert conn.execute(text("SELECT count(*) FROM principals")).scalar() == 1
        grants = conn.execute(
            text(
                "SELECT r.name, g.workspace, g.environment FROM grants g "
                "JOIN roles r ON r.id = g.role_id"
            )
        ).all()
        assert [tuple(g) for g in grants] == [("admin", "*", "*")]


def test_a_fresh_database_is_migrated_to_head_and_seeded(fresh_engine: Engine) -> None:
    with fresh_engine.connect() as conn:
        assert current_revision(conn) is None
    upgrade(fresh_engine)
    _assert_at_head_and_seeded_once(fresh_engine)
    with fresh_engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    # Cheap and harmless when already at head.
    upgrade(fresh_engine)
    upgrade(fresh_engine)
    _assert_at_head_and_seeded_once(fresh_engine)


def test_seeded_ids_do_not_collide_with_new_rows(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO roles (name, description, actions, builtin) "
                "VALUES ('custom', '', '[]', false)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO principals (name, kind, display_name, email, created_at) "
                "VALUES ('someone', 'user', '', '', CURRENT_TIMESTAMP)"
            )
        )
        assert conn.execute(text("SELECT count(*) FROM roles")).scalar() == len(BUILTIN_ROLES) + 1


def test_the_migrations_build_exactly_the_models_schema(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.Base.metadata)
    assert diff == [], "schema.py and the migrations disagree; write a migration"


def test_migrations_downgrade_to_nothing_and_up_again(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
        conn.commit()
    tables = set(inspect(fresh_engine).get_table_names())
    assert tables <= {"alembic_version"}
    upgrade(fresh_engine)
    _assert_at_head_and_seeded_once(fresh_engine)


MIGRATOR = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from modelwright.store.db import create_db_engine
    from modelwright.store.migrate import upgrade

    url, me, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    engine = create_db_engine(url)
    (go.parent / f"ready-{me}").touch()
    while not go.exists():
        time.sleep(0.001)
    upgrade(engine)
    engine.dispose()
    """
)


def test_processes_starting_at_once_migrate_exactly_once(
    fresh_url: str, fresh_engine: Engine, tmp_path: Path
) -> None:
    names = [f"p{i}" for i in range(4)]
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, fresh_url, name, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        deadline = time.monotonic() + 60
        while not all((tmp_path / f"ready-{n}").exists() for n in names):
            crashed = [p for p in procs if p.poll() is not None]
            assert not crashed, crashed[0].communicate()[1]
            assert time.monotonic() < deadline, "the migrating processes did not start"
            time.sleep(0.005)
        go.touch()  # all of them start migrating now
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    _assert_at_head_and_seeded_once(fresh_engine)
    with fresh_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.Base.metadata)
    assert diff == []
