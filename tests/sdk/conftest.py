"""The module-level SDK and autologging against a test platform: ``mw.*`` uses the test's
client; autologging is turned off again after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import modelwright as mw
from modelwright import _fluent
from modelwright.client import Client


@pytest.fixture
def db() -> str:
    """Embedded SQLite only: the SDK adds no store code of its own."""
    return "sqlite"


@pytest.fixture
def mw_client(local_client: Client) -> Iterator[Client]:
    """``mw.*`` talks to an embedded platform (its ``default`` workspace is made on first use)."""
    _fluent._state.client = local_client
    _fluent._state.experiment = None
    yield local_client
    mw.autolog(disable=True)
    while _fluent._stack:
        _fluent._stack[-1].end("killed")
    _fluent._state.client = None
    _fluent._state.experiment = None
