from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelwright.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("MODELWRIGHT_HOME", str(h))
    monkeypatch.setenv("COLUMNS", "200")
    # Datastores of the tests live in the test's directory.
    monkeypatch.setenv("MODELWRIGHT_DATASTORE_ROOTS", str(tmp_path))
    for var in ("MODELWRIGHT_URL", "MODELWRIGHT_TOKEN", "MODELWRIGHT_DB_URL"):
        monkeypatch.delenv(var, raising=False)
    return h


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``modelwright ARGS`` in process, through the real entry point."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def every_command(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Every command and group under ``group``, by path (typer ships its own click, so
    duck-typed)."""
    out: list[tuple[tuple[str, ...], Any]] = []
    for name, cmd in group.commands.items():
        out.append(((*prefix, name), cmd))
        if hasattr(cmd, "commands"):
            out += every_command(cmd, (*prefix, name))
    return out
