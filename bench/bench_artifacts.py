"""Artifact store throughput: put and get of many small and a few large objects."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelwright.store.artifacts import FsspecArtifactStore

MB = 10**6  # throughput in decimal megabytes per second, as disks and networks are quoted


@dataclass(frozen=True)
class Workload:
    name: str
    size: int
    count: int
    # Small objects go through put_bytes/get_bytes, large ones through files (streamed).
    via_files: bool


WORKLOADS = (
    Workload("1 MB × 50", 1 * MB, 50, via_files=False),
    Workload("100 MB × 3", 100 * MB, 3, via_files=True),
)


def _fresh_blobs(w: Workload, scratch: Path) -> list[bytes] | list[Path]:
    """New random content each repeat, so no put is a dedup no-op."""
    if not w.via_files:
        return [os.urandom(w.size) for _ in range(w.count)]
    paths = []
    for i in range(w.count):
        path = scratch / f"in-{i}.bin"
        with path.open("wb") as f:
            for _ in range(w.size // MB):
                f.write(os.urandom(MB))
        paths.append(path)
    return paths


def _one_repeat(store: FsspecArtifactStore, w: Workload, scratch: Path) -> tuple[float, float]:
    blobs = _fresh_blobs(w, scratch)
    total = w.size * w.count
    start = time.perf_counter()
    if w.via_files:
        digests = [store.put_file(p) for p in blobs if isinstance(p, Path)]
    else:
        digests = [store.put_bytes(b) for b in blobs if isinstance(b, bytes)]
    put = total / (time.perf_counter() - start) / MB
    start = time.perf_counter()
    for i, digest in enumerate(digests):
        if w.via_files:
            store.get_file(digest, scratch / f"out-{i}.bin")
        else:
            store.get_bytes(digest)
    get = total / (time.perf_counter() - start) / MB
    for digest in digests:  # keeps the in-memory S3 emulator and the disk small
        store.delete(digest)
    for path in scratch.glob("*.bin"):
        path.unlink()
    return put, get


def measure(
    backend: str, store: FsspecArtifactStore, scratch: Path, *, repeats: int
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for w in WORKLOADS:
        runs = [_one_repeat(store, w, scratch) for _ in range(repeats)]
        api = ("put_file", "get_file") if w.via_files else ("put_bytes", "get_bytes")
        for k, op in enumerate(api):
            rates = [r[k] for r in runs]
            results.append(
                {
                    "backend": backend,
                    "workload": f"{op}, {w.name}",
                    "median": statistics.median(rates),
                    "unit": "MB/s",
                    "all": rates,
                }
            )
    return results
