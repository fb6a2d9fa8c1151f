"""Platform rules about where data may live; shared by the services and platform.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterable

__all__ = ["absolute_local", "location_problem", "placement_problem", "url_problem"]

_LOCAL = ("file", "local")


# fsspec is imported on first use, not with this module: a remote client builds the workspace
# models without checking any URL.
def _split_protocol(url: str) -> tuple[str | None, str]:
    from fsspec.core import split_protocol

    protocol, path = split_protocol(url)
    return protocol, path


def _available_protocols() -> list[str]:
    import fsspec

    return list(fsspec.available_protocols())


def placement_problem(
    environment: str, production: bool, datastore: str, classification: str
) -> str | None:
    """Production data is never reachable from a non-production environment."""
    if classification == "production" and not production:
        return (
            f"datastore '{datastore}' is classified production and cannot be attached to "
            f"non-production environment '{environment}' (production data is never reachable "
            "from non-production environments)"
        )
    return None


def url_problem(url: str) -> str | None:
    if any(ord(c) < 32 for c in url):
        return "url must not contain control characters"
    protocol, _ = _split_protocol(url)
    if protocol is not None and protocol not in _available_protocols():
        return f"url scheme '{protocol}' is not a storage protocol fsspec knows (e.g. file, s3, gs, abfs)"
    return None


def absolute_local(url: str) -> str:
    """A relative local path made absolute against this process's working directory; any
    other URL unchanged. Commands call this, so a path means what it means where they run."""
    protocol, path = _split_protocol(url)
    if protocol is None and not os.path.isabs(path):
        return str(os.path.abspath(path))
    return url


def _location(url: str) -> tuple[str, str]:
    """``(protocol, path)`` to compare locations: a local path made absolute and free of
    ``..`` and symbolic links; a remote URL as written, without a trailing slash."""
    protocol, path = _split_protocol(url)
    if protocol is None or protocol in _LOCAL:
        return "file", os.path.realpath(path)
    return protocol, path.rstrip("/")


def _within(inner: tuple[str, str], outer: tuple[str, str]) -> bool:
    if inner[0] != outer[0]:
        return False
    if not outer[1] or outer[1] == "/":
        return True  # a whole protocol ("s3://") or the whole filesystem
    return inner[1] == outer[1] or inner[1].startswith(outer[1] + "/")


def location_problem(
    url: str,
    *,
    roots: Iterable[str],
    reserved: Iterable[tuple[str, str]],
    taken: Iterable[tuple[str, str]],
) -> str | None:
    """Why a datastore may not point at ``url``, or ``None``.

    The server opens datastore URLs itself, so a URL must lie under a root its operator
    allowed (``roots``); never beside or around the platform's own files (``reserved``:
    (what, url) pairs such as the artifact store); and never inside, or around, another
    datastore (``taken``: (name, url) pairs), which would let one environment or workspace
    reach another's bytes.
    """
    protocol, path = _split_protocol(url)
    if (protocol is None or protocol in _LOCAL) and not os.path.isabs(path):
        return (
            f"must be an absolute path or a URL, not {url!r}: a relative path would be "
            "resolved against the server's working directory"
        )
    if any(part == ".." for part in path.replace("\\", "/").split("/")):
        return f"must not contain '..' segments ({url!r} does)"
    here = _location(url)
    allowed = list(roots)
    if not any(_within(here, _location(root)) for root in allowed):
        return (
            f"{url!r} is outside the datastore roots this platform allows "
            f"({', '.join(allowed) or 'none'}); the platform's operator sets them with "
            "MODELWRIGHT_DATASTORE_ROOTS"
        )
    for what, other in reserved:
        there = _location(other)
        if _within(here, there) or _within(there, here):
            return f"{url!r} overlaps {what}, which only the platform itself may use"
    for name, other in taken:
        there = _location(other)
        if _within(here, there) or _within(there, here):
            return f"{url!r} overlaps the location of datastore {name}"
    return None
