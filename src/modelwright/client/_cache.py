"""The download cache serves only bytes that were verified, however long ago.

A cached file is verified against its digest once, when it is fetched, and stamped with what
``stat`` says of it (device, inode, size, modification and change times). Any write to the
file through the filesystem changes its change time, which no program can set back, so a
file whose stat still matches its stamp holds the verified bytes: a cache hit costs a
``stat``. A file that does not match (written to, replaced, its object rewritten under an
embedded hard link) is hashed again before it is served, and fetched anew if it differs.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

from modelwright.client._objects import sha256_of
from modelwright.client._transport import Transport
from modelwright.settings import client_settings

__all__ = ["Stamps", "cache_dir"]

_NAME = ".verified.json"


def cache_dir(transport: Transport) -> Path:
    """Hash cache and downloads: ``MODELWRIGHT_CACHE_DIR``, else where the transport keeps
    them (embedded: ``<home>/cache``; remote: the user's cache directory)."""
    return client_settings().cache_dir or transport.default_cache_dir()


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class Stamps:
    """The stamps of the files of one cache entry (``<cache>/datasets/<digest>``), by their
    path under it: a file, or each file of a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._file = root / _NAME
        self._dirty = False
        try:
            self._stamps: dict[str, list[object]] = json.loads(self._file.read_text())
        except (OSError, ValueError):
            self._stamps = {}

    def record(self, key: str, path: Path, digest: str) -> None:
        """The file at ``path`` (to be found at ``root/key``) was just verified to hold
        ``digest``. A rename keeps a file's stat, so a staged file can be stamped."""
        self._stamps[key] = [digest, *_stat(path)]
        self._dirty = True

    def under(self, prefix: str) -> dict[str, str]:
        """The stamped files whose key starts with ``prefix/``, with their digests."""
        return {k: str(v[0]) for k, v in self._stamps.items() if k.startswith(f"{prefix}/") and v}

    def verified(self, key: str, digest: str) -> bool:
        """Whether ``root/key`` holds ``digest``: by its stamp, or else by hashing it again
        (and stamping it when it does)."""
        path = self.root / key
        try:
            current = [digest, *_stat(path)]
        except OSError:
            return False
        if self._stamps.get(key) == current:
            return True
        if sha256_of(path) != digest:
            return False
        self._stamps[key] = current
        self._dirty = True
        return True

    def save(self) -> None:
        """Written whole under a new name, then renamed: readers see the old or the new."""
        if not self._dirty:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{_NAME}.{uuid.uuid4().hex}"
        try:
            tmp.write_text(json.dumps(self._stamps))
            os.replace(tmp, self._file)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._dirty = False
