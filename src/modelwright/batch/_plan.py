"""Cutting the input into chunks, and grouping chunks into tasks for the workers.

A *chunk* is the unit of output and of resumption: a run of consecutive rows of one Parquet
file, written to its own file once predicted. Chunks follow the file's row groups: small row
groups are merged up to ``chunk_rows``, a large one is cut into slices. A *task* is what one
worker does in one call: it reads one span of row groups once (only the columns it needs)
and predicts the chunks of that span it was given, so a row group larger than
``chunk_rows`` is not read again for each of its slices.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Chunk", "Task", "job_key", "plan_chunks", "plan_tasks"]


@dataclass(frozen=True)
class Chunk:
    index: int
    file: str
    row_groups: tuple[int, ...]
    offset: int  # first row of the chunk within its row groups
    rows: int
    first_row: int  # position of the chunk's first row in the whole input


@dataclass(frozen=True)
class Task:
    """Everything a worker needs: where to read, what to write; never the data itself."""

    chunks: tuple[Chunk, ...]
    features: tuple[str, ...]
    id_column: str | None
    out_dir: str
    tmp_dir: str
    max_failed: int  # more failed rows than this in one task fail the job anyway
    method: str = "predict"  # the prediction method (``predict_proba``...)


def job_key(**parts: object) -> str:
    """The same command on the same model version and input version gets the same key."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def plan_chunks(files: list[Path], chunk_rows: int) -> list[Chunk]:
    """Chunks of every file in order; the same files and ``chunk_rows`` give the same plan."""
    import pyarrow.parquet as pq

    chunks: list[Chunk] = []
    for path in files:
        meta = pq.read_metadata(path)
        spans: list[tuple[list[int], int]] = []
        for rg in range(meta.num_row_groups):
            rows = meta.row_group(rg).num_rows
            if not spans or spans[-1][1] + rows > chunk_rows:
                spans.append(([], 0))
            groups, total = spans[-1]
            spans[-1] = ([*groups, rg], total + rows)
        for groups, rows in spans:
            pieces = max(1, math.ceil(rows / chunk_rows))
            # Equal slices (within one row) rather than full ones and a small rest.
            bounds = [rows * i // pieces for i in range(pieces + 1)]
            for lo, hi in itertools.pairwise(bounds):
                if hi > lo:
                    first = chunks[-1].first_row + chunks[-1].rows if chunks else 0
                    chunks.append(Chunk(len(chunks), str(path), tuple(groups), lo, hi - lo, first))
    return chunks


def plan_tasks(
    chunks: list[Chunk],
    workers: int,
    *,
    features: tuple[str, ...],
    id_column: str | None,
    out_dir: Path,
    tmp_dir: Path,
    max_failed: int,
    method: str = "predict",
) -> list[Task]:
    """Chunks of one span go together, a few per task: enough tasks to keep every worker
    busy to the end, few enough that a large row group is read by as few of them as can be."""
    per_task = max(1, math.ceil(len(chunks) / (4 * max(1, workers))))
    tasks: list[Task] = []
    group: list[Chunk] = []
    for chunk in chunks:
        if group and (
            len(group) >= per_task
            or (chunk.file, chunk.row_groups) != (group[0].file, group[0].row_groups)
        ):
            tasks.append(
                Task(
                    tuple(group),
                    features,
                    id_column,
                    str(out_dir),
                    str(tmp_dir),
                    max_failed,
                    method,
                )
            )
            group = []
        group.append(chunk)
    if group:
        tasks.append(
            Task(tuple(group), features, id_column, str(out_dir), str(tmp_dir), max_failed, method)
        )
    return tasks
