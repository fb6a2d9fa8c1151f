"""A directory version is a manifest: its files' relative paths, digests and sizes.

The manifest is stored as an object next to the files, and its sha256 is the version's
digest. Canonical JSON: files sorted by path, no whitespace.

Two versions of the format, both read:

* ``modelwright.manifest/1``: every file is an object of its own (its digest names it);
* ``modelwright.manifest/2``: as 1, except that a file may live inside a *pack*: an object
  whose bytes are many files' bytes one after the other. Such an entry also records the
  pack's digest and the file's offset in it; its own sha256 and size stay, and each file is
  verified against its own digest when read. Many small files are stored as a few packs:
  a few sequential writes instead of a file creation, a rename and a flush per file.

A manifest without packed entries is always written as version 1, so trees stored one
object per file keep the digest they always had.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import orjson

from modelwright.errors import InvalidInput

__all__ = [
    "MANIFEST_KIND",
    "MANIFEST_KINDS",
    "ManifestEntry",
    "dump_manifest",
    "load_manifest",
    "objects_of",
]

MANIFEST_KIND = "modelwright.manifest/1"
PACKED_KIND = "modelwright.manifest/2"
MANIFEST_KINDS = (MANIFEST_KIND, PACKED_KIND)
_DIGEST = re.compile(r"[0-9a-f]{64}")
_DIGESTS = re.compile(r"[0-9a-f]*")  # many digests joined: checked in one call


class ManifestEntry(NamedTuple):
    # A named tuple, not a dataclass: a manifest has tens of thousands of them, built at
    # every registration and load, and tuples are several times cheaper to make.
    path: str  # relative, POSIX separators
    digest: str  # sha256 of the file's bytes
    size: int
    pack: str | None = None  # the pack object holding the bytes; None: the object ``digest``
    offset: int = 0  # where the bytes start in the pack

    @property
    def object(self) -> str:
        """The digest of the object holding the bytes."""
        return self.pack or self.digest


def objects_of(entries: list[ManifestEntry]) -> list[str]:
    """The objects a manifest needs, each once, in order of first use."""
    return list(dict.fromkeys(e.object for e in entries))


def dump_manifest(entries: list[ManifestEntry]) -> bytes:
    files = sorted(entries, key=lambda e: e.path)
    packed = any(e.pack is not None for e in files)
    rows: list[dict[str, object]] = []
    for e in files:
        row: dict[str, object] = {"digest": e.digest, "path": e.path, "size": e.size}
        if e.pack is not None:
            row["pack"], row["offset"] = e.pack, e.offset
        rows.append(row)
    body = {"files": rows, "kind": PACKED_KIND if packed else MANIFEST_KIND}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def load_manifest(data: bytes) -> list[ManifestEntry]:
    """Parse and check a manifest; paths that are not plain relative paths (empty, '.' or '..'
    segments, a leading '/', backslashes) are refused."""
    try:
        body = orjson.loads(data)
        kind = body.get("kind")
        if kind not in MANIFEST_KINDS:
            raise ValueError(f"kind is {kind!r}, not one of {', '.join(MANIFEST_KINDS)}")
        if kind == MANIFEST_KIND:
            entries = [
                ManifestEntry(str(f["path"]), str(f["digest"]), int(f["size"]))
                for f in body["files"]
            ]
        else:
            entries = [
                ManifestEntry(
                    str(f["path"]),
                    str(f["digest"]),
                    int(f["size"]),
                    None if f.get("pack") is None else str(f["pack"]),
                    int(f.get("offset", 0)),
                )
                for f in body["files"]
            ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(
            f"digest: the object is not a directory manifest ({exc})", details={"field": "digest"}
        ) from None
    if not entries:
        raise InvalidInput("digest: the manifest lists no files", details={"field": "digest"})
    paths = [e.path for e in entries]
    if len(set(paths)) != len(paths) or not all(map(_plain_path, paths)):
        seen: set[str] = set()
        for path in paths:
            if path in seen or not _plain_path(path):
                raise InvalidInput(
                    f"digest: the manifest has a bad or repeated path {path[:200]!r}",
                    details={"field": "digest"},
                )
            seen.add(path)
    packs = [e.pack for e in entries if e.pack is not None]
    if (
        not _DIGESTS.fullmatch("".join(e.digest for e in entries))
        or not _DIGESTS.fullmatch("".join(packs))
        or any(len(d) != 64 for d in (*(e.digest for e in entries), *packs))
        or min(min(e.size, e.offset) for e in entries) < 0
    ):
        bad = next((e for e in entries if not _good_entry(e)), entries[0])
        raise InvalidInput(
            f"digest: the manifest entry {bad.path[:200]!r} has a bad digest, pack, size or offset",
            details={"field": "digest"},
        )
    return entries


def _plain_path(path: str) -> bool:
    """A relative POSIX path without empty, '.' or '..' segments (nor a leading '/')."""
    wrapped = f"/{path}/"
    return not ("\\" in path or "//" in wrapped or "/./" in wrapped or "/../" in wrapped)


def _good_entry(e: ManifestEntry) -> bool:
    return (
        _DIGEST.fullmatch(e.digest) is not None
        and (e.pack is None or _DIGEST.fullmatch(e.pack) is not None)
        and e.size >= 0
        and e.offset >= 0
    )
