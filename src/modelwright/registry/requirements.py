"""A model's requirements: only the distributions its flavor needs, pinned from a lock list."""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable

__all__ = ["normalize", "pin", "public_version"]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def public_version(version: str) -> str:
    """``2.3.0`` for ``2.3.0+cpu``: a local version label names a build of one machine or
    index that a package index does not serve, and ``==2.3.0`` still matches that build."""
    return version.strip().partition("+")[0]


def pin(packages: Iterable[str], lock: Iterable[str]) -> list[str]:
    """``name==version`` for each package: from ``lock`` (a run's ``name==version`` list),
    else from this process's installed version; packages installed nowhere are left out.
    Pins are installable from a package index (no local version labels)."""
    locked: dict[str, str] = {}
    for line in lock:
        name, sep, version = line.partition("==")
        if sep:
            locked[normalize(name)] = version.strip()
    out: dict[str, str] = {}
    for pkg in packages:
        key = normalize(pkg)
        if key in locked:
            out[key] = f"{key}=={public_version(locked[key])}"
            continue
        try:
            out[key] = f"{key}=={public_version(importlib.metadata.version(pkg))}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return sorted(out.values())
