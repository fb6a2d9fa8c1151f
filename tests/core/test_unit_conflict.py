"""A write refused by the database's constraints is a Conflict, and nothing of it is kept."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from modelwright.core.platform import Platform
from modelwright.errors import Conflict
from modelwright.store import schema


def _workspace(name: str) -> schema.Workspace:
    return schema.Workspace(name=name, description="", created_at=datetime.now(UTC))


def _lose_the_race(platform: Platform) -> None:
    # The loser passed the same "does it exist" check before the winner committed.
    with platform.unit(platform.caller("admin")) as ctx:
        ctx.session.add(_workspace("other"))
        ctx.session.add(_workspace("churn"))
        ctx.session.flush()


def test_the_loser_of_a_race_gets_a_conflict_and_nothing_is_written(platform: Platform) -> None:
    admin = platform.caller("admin")
    with platform.unit(admin) as ctx:  # the winner of two concurrent creates
        ctx.session.add(_workspace("churn"))
    with pytest.raises(Conflict) as caught:
        _lose_the_race(platform)
    assert "retry" in caught.value.message
    assert "workspaces" in caught.value.details["constraint"].lower()
    with platform.unit(admin) as ctx:
        names = set(ctx.session.scalars(select(schema.Workspace.name)))
    assert "churn" in names
    assert "other" not in names  # the whole unit was rolled back


def test_a_reading_unit_does_not_wait_for_a_writer(platform: Platform, db: str) -> None:
    if db != "sqlite":
        pytest.skip("the write lock taken at BEGIN is SQLite's")
    admin = platform.caller("admin")
    with platform.unit(admin) as writer:
        writer.session.add(_workspace("held"))
        writer.session.flush()  # this unit now holds SQLite's write lock
        started = time.monotonic()
        with platform.unit(admin, reading_only=True) as reader:
            names = set(reader.session.scalars(select(schema.Workspace.name)))
        waited = time.monotonic() - started
    assert "held" not in names  # it read the last committed state
    assert waited < 5  # a writing unit would wait out the 30 s busy timeout here
