"""Helpers shared by the built-in flavors."""

from __future__ import annotations

import importlib.metadata
from typing import Any

__all__ = ["class_path", "module_root", "version_of"]


def class_path(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def module_root(obj: Any) -> str:
    cls = type(obj)
    return (getattr(cls, "__module__", "") or "").split(".")[0]


def version_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
