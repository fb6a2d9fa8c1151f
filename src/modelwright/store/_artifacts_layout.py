"""Shared vocabulary of the artifact store: digests, where objects live, chunked reading."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from modelwright.errors import ArtifactCorrupted, InvalidInput, NotFound

__all__ = [
    "CHUNK_SIZE",
    "ByteSource",
    "Readable",
    "check_digest",
    "chunks_of",
    "corrupted",
    "missing",
    "object_key",
    "read_chunks",
]

# Big enough that per-chunk Python overhead vanishes next to hashing and I/O, small enough
# that a put or get of any size holds only a few of them in memory.
CHUNK_SIZE = 1 << 20

_DIGEST = re.compile(r"[0-9a-f]{64}")


@runtime_checkable
class Readable(Protocol):
    """A binary file-like object: ``read(n)`` returns up to ``n`` bytes, ``b""`` at the end."""

    def read(self, size: int = ..., /) -> bytes: ...


ByteSource = Readable | Iterable[bytes]


def check_digest(digest: object) -> str:
    """Return ``digest`` when it is a sha256 in lowercase hex, else raise ``InvalidInput``.

    Digests become object paths, so this is also what keeps ``../`` and friends from ever
    reaching the filesystem.
    """
    if isinstance(digest, str) and _DIGEST.fullmatch(digest):
        return digest
    shown = repr(digest) if len(repr(digest)) <= 80 else repr(digest)[:77] + "..."
    raise InvalidInput(
        f"artifact digest must be a sha256 as 64 lowercase hex characters (got {shown})",
        details={"field": "digest"},
    )


def object_key(root: str, digest: str) -> str:
    """``<root>/objects/sha256/ab/cdef…``: fanned out so no directory grows unbounded."""
    return f"{root}/objects/sha256/{digest[:2]}/{digest[2:]}"


def read_chunks(source: Readable, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    while chunk := source.read(size):
        yield chunk


def chunks_of(source: ByteSource) -> Iterator[bytes]:
    """The chunks of a readable binary stream or of an iterable of bytes, type-checked."""
    if isinstance(source, bytes | bytearray | memoryview | str):
        # Iterating bytes yields ints and str yields characters: almost surely a mistake.
        raise InvalidInput(
            "put_stream takes a binary stream or an iterable of bytes chunks; "
            f"use put_bytes for a {type(source).__name__} value"
        )
    chunks: Iterator[object] = read_chunks(source) if isinstance(source, Readable) else iter(source)
    for chunk in chunks:
        if isinstance(chunk, bytes):
            yield chunk
        elif isinstance(chunk, bytearray | memoryview):
            yield bytes(chunk)  # tolerated at runtime, at the price of a copy
        else:
            raise InvalidInput(
                f"put_stream: chunks must be bytes (got {type(chunk).__name__}); "
                "open files in binary mode"
            )


def missing(digest: str, store_url: str) -> NotFound:
    return NotFound(
        f"artifact sha256:{digest} not found in {store_url}",
        details={"digest": digest, "store": store_url},
    )


def corrupted(digest: str, location: str, actual: str) -> ArtifactCorrupted:
    return ArtifactCorrupted(
        f"artifact sha256:{digest} at {location} is corrupted: its bytes hash to "
        f"sha256:{actual}; delete it and store the original again",
        details={"digest": digest, "location": location, "actual": actual},
    )
