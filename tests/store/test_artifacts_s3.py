"""The S3 backend against a moto server: layout, no-op duplicates, and interrupted uploads."""

from __future__ import annotations

import hashlib
import io
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from modelwright.errors import Conflict
from modelwright.store._artifacts_remote import RemoteWriter
from modelwright.store.artifacts import FsspecArtifactStore
from modelwright.testing import LocalS3Server

pytestmark = pytest.mark.s3


def test_objects_are_laid_out_by_digest(s3_store: FsspecArtifactStore, s3_bucket: str) -> None:
    digest = s3_store.put_bytes(b"hello")

    key = f"{s3_bucket}/artifacts/objects/sha256/{digest[:2]}/{digest[2:]}"
    assert s3_store.fs.cat_file(key) == b"hello"
    assert s3_store.url_for(digest) == f"s3://{key}"


def test_storing_existing_content_uploads_nothing(
    s3_store: FsspecArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, large = os.urandom(1000), os.urandom(9 * 2**20)  # one PUT / a multipart upload
    sources = {}
    for name, data in (("small", small), ("large", large)):
        s3_store.put_bytes(data)
        sources[name] = tmp_path / name
        sources[name].write_bytes(data)

    def no_upload(*args: object, **kwargs: object) -> None:
        raise AssertionError("uploaded content that was already stored")

    monkeypatch.setattr(s3_store.fs, "pipe_file", no_upload)
    monkeypatch.setattr(s3_store.fs, "open", no_upload)
    for name, data in (("small", small), ("large", large)):
        digest = hashlib.sha256(data).hexdigest()
        assert s3_store.put_bytes(data) == digest
        assert s3_store.put_file(sources[name]) == digest
        assert s3_store.put_stream(io.BytesIO(data)) == digest


def test_a_file_changed_during_upload_is_not_stored(
    s3_store: FsspecArtifactStore,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(12 * 2**20))
    first = hashlib.sha256(source.read_bytes()).hexdigest()
    writer = s3_store._writer
    assert isinstance(writer, RemoteWriter)
    real_exists = writer._exists

    def exists_then_change_the_file(digest: str) -> bool:
        # Between the hashing pass and the upload: the moment a concurrent edit can slip in.
        with source.open("r+b") as f:
            f.write(b"edited")
        return real_exists(digest)

    monkeypatch.setattr(writer, "_exists", exists_then_change_the_file)

    with pytest.raises(Conflict, match="changed while it was stored"):
        s3_store.put_file(source)

    edited = hashlib.sha256(source.read_bytes()).hexdigest()
    assert not s3_store.exists(first)
    assert not s3_store.exists(edited)
    assert s3_store.fs.list_multipart_uploads(s3_bucket) == []  # aborted, not left behind


@pytest.mark.parametrize("operation", ["put_file", "get_file"])
def test_large_objects_are_streamed_not_loaded(
    s3_store: FsspecArtifactStore, tmp_path: Path, operation: str
) -> None:
    size = 96 * 2**20
    source = tmp_path / "big.bin"
    with source.open("wb") as f:
        for _ in range(size // 2**20):
            f.write(os.urandom(2**20))
    digest = "" if operation == "put_file" else s3_store.put_file(source)

    tracemalloc.start()
    try:
        if operation == "put_file":
            s3_store.put_file(source)
        else:
            s3_store.get_file(digest, tmp_path / "out.bin")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # s3fs holds a few upload/read-ahead blocks (5 MiB here), never the whole object.
    assert peak < size // 2, f"{operation} of {size} bytes peaked at {peak} bytes"


# Uploads a file through the store, but freezes for good once the first part is sent.
_KILLED_UPLOADER = textwrap.dedent(
    """
    import json, sys, time
    import s3fs.core
    from modelwright.store.artifacts import open_artifact_store

    real_write = s3fs.core.S3File.write

    def write_then_freeze(self, data):
        written = real_write(self, data)
        if self.parts:
            print("uploading", flush=True)
            time.sleep(600)
        return written

    s3fs.core.S3File.write = write_then_freeze
    store = open_artifact_store(sys.argv[1], **json.loads(sys.argv[2]))
    store.put_file(sys.argv[3])
    """
)


def test_uploader_killed_mid_upload_leaves_no_object(
    s3_server: LocalS3Server, s3_store: FsspecArtifactStore, s3_bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(os.urandom(24 * 2**20))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    options = {**s3_server.storage_options, "default_block_size": 5 * 2**20}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_UPLOADER, s3_store.url, json.dumps(options), str(source)],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the uploader never reported progress"
        assert proc.stdout.readline().strip() == b"uploading"
        assert len(s3_store.fs.list_multipart_uploads(s3_bucket)) == 1  # really mid-upload
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()

    assert not s3_store.exists(digest)
    assert s3_store.fs.find(s3_bucket) == []
    # The store is unharmed: the same file goes in whole now.
    assert s3_store.put_file(source) == digest
    s3_store.verify(digest)
