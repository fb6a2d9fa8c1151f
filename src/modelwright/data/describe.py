"""Schema and profile of a stored version, read back from its datastore by the service.

Computed from the stored bytes, never taken from the client. A file of a tabular format, a
DataFrame, or a directory whose files all share one tabular format and one set of columns
is described; anything else has no schema and no profile.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from modelwright.core.machine import usable_cores
from modelwright.data._packs import unpack
from modelwright.data._streamed import Description, describe_file
from modelwright.data.manifest import ManifestEntry
from modelwright.data.profile import profile_table, schema_of
from modelwright.data.tabular import TABULAR, format_of, read_table
from modelwright.store.artifacts import ArtifactStore

__all__ = ["MAX_PROFILED_FILES", "describe"]

# Profiling reads every file; beyond this many a directory is stored without a profile
# (register it as several versions, or as fewer, bigger files, to get one).
MAX_PROFILED_FILES = 2_000


def describe(
    store: ArtifactStore,
    kind: str,
    fmt: str,
    digest: str,
    entries: list[ManifestEntry] | None = None,
) -> Description:
    if fmt not in TABULAR:
        return None, None
    if kind != "directory":
        with _readable(store, digest) as source:
            return describe_file(source, fmt, "the file" if kind == "file" else "the DataFrame")
    files = [e for e in entries or [] if format_of(e.path) == fmt]
    if not files or len(files) != len(entries or []) or len(files) > MAX_PROFILED_FILES:
        return None, None
    packed = _unpacked(store, files)

    def read(e: ManifestEntry) -> pa.Table:
        if e.pack is not None:
            return read_table(pa.BufferReader(packed[e.path]), fmt, f"file '{e.path}'")
        with _readable(store, e.digest) as path:
            return read_table(path, fmt, f"file '{e.path}'")

    # Files on a local disk are decoded side by side (Arrow lets go of the interpreter
    # lock): most of a small file's time is the memory its columns are decoded into being
    # mapped. Other stores are read one file at a time, as they always were.
    local = store.local_path(files[0].digest) is not None
    threads = min(len(files), usable_cores()) if local else 1
    with ThreadPoolExecutor(threads, thread_name_prefix="describe") as pool:
        tables = list(pool.map(read, files))
    if any(t.schema.names != tables[0].schema.names for t in tables):
        return None, None
    try:
        # Per-file type inference of CSV may differ (int64 here, double there): promote.
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None, None
    return schema_of(table.schema), profile_table(table)


def _unpacked(store: ArtifactStore, files: list[ManifestEntry]) -> dict[str, bytes]:
    """The bytes of the files kept in packs (small ones), each pack opened once."""
    packed: dict[str, list[ManifestEntry]] = {}
    for e in files:
        if e.pack is not None:
            packed.setdefault(e.pack, []).append(e)
    held: dict[str, bytes] = {}
    for pack, entries in packed.items():
        with store.open(pack) as f:
            held.update((e.path, data) for e, data in unpack(f, pack, entries))
    return held


@contextmanager
def _readable(store: ArtifactStore, digest: str) -> Iterator[str]:
    """A local path to the object's bytes: the object itself on a local disk, else a copy."""
    path = store.local_path(digest)
    if path is not None:
        yield str(path)
        return
    with tempfile.TemporaryDirectory(prefix="mw-describe-") as tmp:
        yield str(store.get_file(digest, Path(tmp) / digest))
