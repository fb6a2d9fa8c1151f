"""Atomic writes to object stores (S3 and other fsspec remotes).

An object store publishes a key atomically by itself: a PUT or a completed multipart upload
makes the whole body visible at once, and a multipart upload that is never completed (the
writer died, or aborted it) is never visible. What is left to get right is the key: it is the
content's sha256, so the hash must be known *before* the upload starts. Hence:

* bytes in memory are hashed, then sent with one ``pipe_file`` (PUT);
* a local file is hashed in a first pass (cheap next to the network), skipped entirely if the
  object already exists, then uploaded to its final key while being hashed again. The upload
  is committed only if the second hash matches, so a file changed in between never lands
  under the wrong address;
* a stream of unknown content can be read once only, so it is spooled while hashed (in
  memory up to ``SMALL_OBJECT``, then in a temporary file under ``TMPDIR``), then uploaded
  like a file. Uploading to a temporary key and copying it to
  the final one would also work but costs a server-side copy of every byte plus two requests,
  leaves garbage keys behind when the writer dies, and uploads duplicates before noticing them.

Killed writers can leave incomplete multipart uploads: invisible, but billed on S3 until a
bucket lifecycle rule (``AbortIncompleteMultipartUpload``) removes them.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from modelwright.errors import Conflict
from modelwright.store._artifacts_layout import CHUNK_SIZE, object_key, read_chunks

__all__ = ["SMALL_OBJECT", "RemoteWriter"]

# Objects up to this size go up in one PUT from memory; larger ones stream in parts.
SMALL_OBJECT = 8 * CHUNK_SIZE


class RemoteWriter:
    """Puts objects into a store on an fsspec filesystem whose writes are transactional."""

    def __init__(self, fs: Any, root: str) -> None:
        self.fs = fs
        self.root = root

    def put_bytes(self, data: bytes, digest: str) -> None:
        """Upload ``data``, already hashed to ``digest`` by the caller."""
        self.fs.pipe_file(object_key(self.root, digest), data)

    def put_file(self, path: Path) -> str:
        if path.stat().st_size <= SMALL_OBJECT:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if not self._exists(digest):
                self.put_bytes(data, digest)
            return digest
        with path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        if not self._exists(digest):
            with path.open("rb") as f:
                self._upload_verified(read_chunks(f), digest, what=str(path))
        return digest

    def put_chunks(self, chunks: Iterable[bytes]) -> str:
        with tempfile.SpooledTemporaryFile(max_size=SMALL_OBJECT) as spool:
            sha = hashlib.sha256()
            for chunk in chunks:
                sha.update(chunk)
                spool.write(chunk)
            digest = sha.hexdigest()
            if self._exists(digest):
                return digest
            size = spool.tell()
            spool.seek(0)
            if size <= SMALL_OBJECT:
                self.put_bytes(spool.read(), digest)
            else:
                self._upload_verified(read_chunks(spool), digest, what="the stream spool")
        return digest

    def _exists(self, digest: str) -> bool:
        return bool(self.fs.exists(object_key(self.root, digest)))

    def _upload_verified(self, chunks: Iterable[bytes], digest: str, *, what: str) -> None:
        """Stream ``chunks`` to the key of ``digest``; publish only if they hash to it."""
        # autocommit=False is fsspec's transactional write: on S3 the multipart upload is
        # completed by commit() and aborted by discard(), so nothing is visible before.
        f = self.fs.open(object_key(self.root, digest), "wb", autocommit=False)
        sha = hashlib.sha256()
        try:
            for chunk in chunks:
                sha.update(chunk)
                f.write(chunk)
        except BaseException:
            # Close before discarding: discarding an open s3fs file and letting it be closed
            # later (even by the garbage collector) would start a fresh upload.
            with contextlib.suppress(Exception):
                f.close()
            with contextlib.suppress(Exception):
                f.discard()
            raise
        f.close()
        if sha.hexdigest() != digest:
            f.discard()
            raise Conflict(
                f"{what} changed while it was stored (hashed sha256:{digest}, then read "
                f"sha256:{sha.hexdigest()}); nothing was stored",
                details={"expected": digest, "actual": sha.hexdigest()},
            )
        f.commit()
