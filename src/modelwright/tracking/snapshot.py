"""The environment a run started in: git state, Python, platform and installed packages."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["package_lock", "take_snapshot"]


def take_snapshot(cwd: Path | None = None) -> dict[str, Any]:
    """Cheap enough to take at every run start (the package list is read once per process)."""
    return {
        "git": _git(cwd or Path.cwd()),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "argv": sys.argv[:20],
        "packages": package_lock(),
    }


@functools.cache
def package_lock() -> list[str]:
    """``name==version`` of every installed distribution, sorted: a lock list of the process."""
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.name
        if name:
            seen.setdefault(name.lower().replace("_", "-"), dist.version)
    return [f"{n}=={v}" for n, v in sorted(seen.items())]


def _git(cwd: Path) -> dict[str, Any] | None:
    git = shutil.which("git")
    if git is None:
        return None

    def run(*args: str) -> str | None:
        try:
            out = subprocess.run(  # noqa: S603 - fixed git subcommands, no user input
                [git, *args], cwd=cwd, capture_output=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.decode(errors="replace")

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return None
    diff = run("diff", "HEAD", "--binary") or ""
    untracked = run("ls-files", "--others", "--exclude-standard") or ""
    return {
        "commit": commit.strip(),
        "branch": (run("rev-parse", "--abbrev-ref", "HEAD") or "").strip(),
        "dirty": bool(diff or untracked),
        # Enough to tell two dirty trees apart without storing the diff itself.
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None,
        "untracked_files": len(untracked.splitlines()),
    }
