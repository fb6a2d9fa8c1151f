"""The environment a run started in: git state, Python, platform and installed packages.

Taken at every run start, so each part costs as little as it provably can:

* Python and the platform cannot change while the process lives: computed once
  (``platform.platform()`` reads the interpreter's executable to find the libc version).
* The package lock list is cached per process and rebuilt when an installation may have
  changed: installing, upgrading or removing a distribution adds or removes a
  ``*.dist-info`` (or ``*.egg-info``) entry in a directory of ``sys.path``, which changes
  that directory's mtime; a changed ``sys.path`` changes the key too.
* The git state is read anew each time (editing a tracked file changes the diff without
  touching anything git keeps), by git commands run side by side rather than one by one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

__all__ = ["package_lock", "take_snapshot"]

_GIT_TIMEOUT_S = 10


def take_snapshot(cwd: Path | None = None) -> dict[str, Any]:
    """Cheap enough to take at every run start (see the module's docstring)."""
    return {
        "git": _git(cwd or Path.cwd()),
        **_interpreter(),
        "argv": sys.argv[:20],
        "packages": package_lock(),
    }


@functools.cache
def _interpreter() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
    }


# -- packages ---------------------------------------------------------------------------------
def _paths_key() -> tuple[tuple[str, int], ...]:
    """``sys.path`` with each entry's mtime (-1 when it is not there): what the installed
    distributions are found from, and what changes when one is added or removed."""
    key = []
    for entry in sys.path:
        try:
            mtime = os.stat(entry or ".").st_mtime_ns
        except OSError:
            mtime = -1
        key.append((entry, mtime))
    return tuple(key)


class _LockCache:
    def __init__(self) -> None:
        self.guard = threading.Lock()
        self.key: tuple[tuple[str, int], ...] | None = None
        self.packages: list[str] = []


_lock_cache = _LockCache()


def package_lock() -> list[str]:
    """``name==version`` of every installed distribution, sorted: a lock list of the process.

    A new list (the caller may keep or change it); read again from the installation only
    when ``sys.path`` or the mtime of one of its directories changed."""
    key = _paths_key()
    cache = _lock_cache
    with cache.guard:
        if cache.key != key:
            cache.packages, cache.key = _read_lock(), key
        return list(cache.packages)


def _read_lock() -> list[str]:
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.name
        if name:
            seen.setdefault(name.lower().replace("_", "-"), dist.version)
    return [f"{n}=={v}" for n, v in sorted(seen.items())]


# -- git --------------------------------------------------------------------------------------
def _git(cwd: Path) -> dict[str, Any] | None:
    git = shutil.which("git")
    if git is None:
        return None
    # Started together and read after: the three take about as long as the slowest.
    head, diff, untracked = _run_all(
        cwd,
        [git, "rev-parse", "HEAD", "--abbrev-ref", "HEAD"],
        [git, "diff", "HEAD", "--binary"],
        [git, "ls-files", "--others", "--exclude-standard"],
    )
    if head is None:
        return None
    commit, _, branch = head.decode(errors="replace").strip().partition("\n")
    # Decoded and encoded again as before, so that the hash of a tree stays what it was.
    diff_text = (diff or b"").decode(errors="replace")
    untracked_text = (untracked or b"").decode(errors="replace")
    return {
        "commit": commit.strip(),
        "branch": branch.strip(),
        "dirty": bool(diff_text or untracked_text),
        # Enough to tell two dirty trees apart without storing the diff itself.
        "diff_sha256": hashlib.sha256(diff_text.encode()).hexdigest() if diff_text else None,
        "untracked_files": len(untracked_text.splitlines()),
    }


def _run_all(cwd: Path, *commands: list[str]) -> list[bytes | None]:
    """Each command's stdout, or None where it failed, could not start or timed out."""
    procs: list[subprocess.Popen[bytes] | None] = []
    for cmd in commands:
        try:
            procs.append(
                subprocess.Popen(  # noqa: S603 - fixed git subcommands, no user input
                    cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
                )
            )
        except OSError:
            procs.append(None)
    out: list[bytes | None] = []
    for proc in procs:
        if proc is None:
            out.append(None)
            continue
        try:
            stdout, _ = proc.communicate(timeout=_GIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            out.append(None)
            continue
        out.append(stdout if proc.returncode == 0 else None)
    return out
