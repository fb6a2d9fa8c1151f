"""A directory version is a manifest: its files' relative paths, digests and sizes.

The manifest is stored as an object next to the files, and its sha256 is the version's
digest, so that the same tree of bytes always has the same digest (file names included;
timestamps and permissions not). Canonical JSON: files sorted by path, no whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from modelwright.errors import InvalidInput

__all__ = ["MANIFEST_KIND", "ManifestEntry", "dump_manifest", "load_manifest"]

MANIFEST_KIND = "modelwright.manifest/1"
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # relative, POSIX separators
    digest: str
    size: int


def dump_manifest(entries: list[ManifestEntry]) -> bytes:
    files = sorted(entries, key=lambda e: e.path)
    body = {
        "files": [{"digest": e.digest, "path": e.path, "size": e.size} for e in files],
        "kind": MANIFEST_KIND,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def load_manifest(data: bytes) -> list[ManifestEntry]:
    """Parse and check a manifest; paths that are not plain relative paths (empty, '.' or '..'
    segments, a leading '/', backslashes) are refused."""
    try:
        body = orjson.loads(data)
        if body.get("kind") != MANIFEST_KIND:
            raise ValueError(f"kind is {body.get('kind')!r}, not {MANIFEST_KIND!r}")
        entries = [
            ManifestEntry(str(f["path"]), str(f["digest"]), int(f["size"])) for f in body["files"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"digest: the object is not a directory manifest ({exc})", details={"field": "digest"}
        ) from None
    if not entries:
        raise InvalidInput("digest: the manifest lists no files", details={"field": "digest"})
    seen: set[str] = set()
    for e in entries:
        parts = e.path.split("/")
        if "\\" in e.path or e.path in seen or any(p in ("", ".", "..") for p in parts):
            raise InvalidInput(
                f"digest: the manifest has a bad or repeated path {e.path[:200]!r}",
                details={"field": "digest"},
            )
        if not _DIGEST.fullmatch(e.digest) or e.size < 0:
            raise InvalidInput(
                f"digest: the manifest entry {e.path[:200]!r} has a bad digest or size",
                details={"field": "digest"},
            )
        seen.add(e.path)
    return entries
