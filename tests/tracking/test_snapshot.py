"""The environment snapshot: what is cached per process, and when it is read again."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from modelwright.tracking import snapshot


def _install(site: Path, name: str, version: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_the_package_lock_is_read_again_when_an_installation_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    reads = 0
    read = snapshot._read_lock

    def counting() -> list[str]:
        nonlocal reads
        reads += 1
        return read()

    monkeypatch.setattr(snapshot, "_read_lock", counting)
    before = snapshot.package_lock()
    assert snapshot.package_lock() == before and reads == 1  # nothing changed: not read again
    assert not any(p.startswith("mw-demo-pkg==") for p in before)

    _install(site, "mw_demo_pkg", "1.0")  # what pip does: a new *.dist-info directory
    assert "mw-demo-pkg==1.0" in snapshot.package_lock() and reads == 2

    (site / "mw_demo_pkg-1.0.dist-info" / "METADATA").unlink()
    (site / "mw_demo_pkg-1.0.dist-info").rmdir()  # an upgrade removes the old one...
    _install(site, "mw_demo_pkg", "2.0")  # ...and adds the new one
    after = snapshot.package_lock()
    assert "mw-demo-pkg==2.0" in after and "mw-demo-pkg==1.0" not in after

    after.clear()  # the caller's copy: the cache keeps its own
    assert "mw-demo-pkg==2.0" in snapshot.package_lock()


def test_git_state_from_the_three_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    diff = "diff --git a/x b/x\n+é\n"
    outputs: list[bytes | None] = [b"0123abcd\nmain\n", diff.encode(), b"new.txt\nother.txt\n"]
    monkeypatch.setattr(snapshot, "_run_all", lambda cwd, *commands: outputs)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/git")
    assert snapshot._git(Path()) == {
        "commit": "0123abcd",
        "branch": "main",
        "dirty": True,
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest(),
        "untracked_files": 2,
    }
    outputs[1:] = [b"", b""]
    state = snapshot._git(Path())
    assert state is not None and not state["dirty"] and state["diff_sha256"] is None
    outputs[0] = None  # not a repository, or no commit yet
    assert snapshot._git(Path()) is None


def test_commands_that_fail_or_cannot_start_give_none(tmp_path: Path) -> None:
    ok, failed, missing = snapshot._run_all(
        tmp_path,
        [sys.executable, "-c", "print('hi')"],
        [sys.executable, "-c", "raise SystemExit(3)"],
        [str(tmp_path / "no-such-program")],
    )
    assert ok == b"hi\n" and failed is None and missing is None
