"""The local-directory backend: layout, no-op duplicates, streaming, and a writer killed mid-write."""

from __future__ import annotations

import hashlib
import io
import os
import select
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from modelwright.store.artifacts import CHUNK_SIZE, FsspecArtifactStore


def object_files(store: FsspecArtifactStore) -> list[Path]:
    return [p for p in (Path(store.root) / "objects").rglob("*") if p.is_file()]


def test_objects_are_laid_out_by_digest(local_store: FsspecArtifactStore) -> None:
    digest = local_store.put_bytes(b"hello")

    path = Path(local_store.root) / "objects" / "sha256" / digest[:2] / digest[2:]
    assert path.read_bytes() == b"hello"
    assert local_store.url_for(digest) == f"file://{path}"
    assert object_files(local_store) == [path]


def test_storing_existing_content_rewrites_nothing(
    local_store: FsspecArtifactStore, tmp_path: Path
) -> None:
    data = os.urandom(10_000)
    digest = local_store.put_bytes(data)
    path = Path(local_store.path_for(digest))
    before = path.stat()
    source = tmp_path / "same.bin"
    source.write_bytes(data)

    local_store.put_bytes(data)
    local_store.put_file(source)
    local_store.put_stream(io.BytesIO(data))

    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list((Path(local_store.root) / "tmp").iterdir()) == []  # staged copies were dropped


def test_objects_get_the_mode_of_any_new_file(local_store: FsspecArtifactStore) -> None:
    old = os.umask(0o022)
    try:
        digest = local_store.put_bytes(b"shared with the team")
    finally:
        os.umask(old)
    assert Path(local_store.path_for(digest)).stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("operation", ["put_file", "put_stream", "get_file", "verify"])
def test_large_objects_are_streamed_not_loaded(
    local_store: FsspecArtifactStore, tmp_path: Path, operation: str
) -> None:
    size = 48 * 2**20
    source = tmp_path / "big.bin"
    with source.open("wb") as f:
        for _ in range(size // 2**20):
            f.write(os.urandom(2**20))
    digest = local_store.put_file(source)

    tracemalloc.start()
    try:
        if operation == "put_file":
            local_store.delete(digest)
            local_store.put_file(source)
        elif operation == "put_stream":
            local_store.delete(digest)
            with source.open("rb") as f:
                local_store.put_stream(f)
        elif operation == "get_file":
            local_store.get_file(digest, tmp_path / "out.bin")
        else:
            local_store.verify(digest)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * CHUNK_SIZE, f"{operation} of {size} bytes peaked at {peak} bytes"


# Writes 64 MiB through put_stream, but stops for good after 8 MiB and says so.
_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from modelwright.store.artifacts import open_artifact_store

    def chunks():
        for i in range(64):
            yield bytes([i]) * 2**20
            if i == 8:
                print("writing", flush=True)
                time.sleep(600)

    open_artifact_store(sys.argv[1]).put_stream(chunks())
    """
)


def full_content() -> bytes:
    return b"".join(bytes([i]) * 2**20 for i in range(64))


def wait_for_line(proc: subprocess.Popen[bytes], timeout: float = 60) -> bytes:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the writer process never reported progress"
    return proc.stdout.readline().strip()


def test_writer_killed_mid_write_leaves_no_object(local_store: FsspecArtifactStore) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, local_store.root], stdout=subprocess.PIPE
    )
    try:
        assert wait_for_line(proc) == b"writing"
        staged = list((Path(local_store.root) / "tmp").iterdir())
        assert len(staged) == 1
        assert staged[0].stat().st_size >= 8 * 2**20  # really mid-write
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()

    data = full_content()
    digest = hashlib.sha256(data).hexdigest()
    assert not local_store.exists(digest)
    assert object_files(local_store) == []
    # The store is unharmed: the same content goes in whole now.
    assert local_store.put_bytes(data) == digest
    local_store.verify(digest)
