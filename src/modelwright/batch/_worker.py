"""What a worker does: load the model once, then for each task read its rows from Parquet,
predict, and write each chunk's output file atomically (a temporary file renamed into place).

When ``predict`` raises on a chunk, the chunk is bisected until the rows that fail are found
alone, so the others still get predictions; a failed row gets nulls and an ``_error``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwright.batch._plan import Chunk, Task
from modelwright.errors import user_frame
from modelwright.registry.artifact import load_dir
from modelwright.registry.predict import LoadedModel

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "ERROR_COLUMN",
    "PREDICTION",
    "ROW_COLUMN",
    "ChunkDone",
    "ChunkRunner",
    "Predicted",
    "adopt_runner",
    "chunk_name",
    "init_process",
    "run_in_process",
]

ROW_COLUMN = "_row"  # the generated id: the row's position in the input
ERROR_COLUMN = "_error"
PREDICTION = "prediction"
_MAX_MESSAGE = 500
_OVER_BUDGET = "not predicted: the job had already passed its error threshold"


def chunk_name(index: int) -> str:
    return f"chunk-{index:06d}.parquet"


@dataclass(frozen=True)
class ChunkDone:
    index: int
    rows: int
    failed: int
    errors: tuple[str, ...]  # the first few, as "<id>: <message>"
    where: str = ""  # where the user's code failed first (``errors.user_frame``), if known


@dataclass(frozen=True)
class Predicted:
    """A chunk's output, predicted and not yet written."""

    chunk: Chunk
    table: pa.Table  # id, the model's outputs, error
    failed: int
    samples: tuple[str, ...]
    where: str = ""


class ChunkRunner:
    """One loaded model and the loop over a task's chunks.

    ``threads`` is how many cores this runner may keep busy: with one (a worker process
    among several) it reads, converts and predicts in one thread, as the baseline
    ``model.predict`` in a process of its own would; with more, Arrow reads in parallel.
    """

    def __init__(self, model: LoadedModel, threads: int = 1) -> None:
        self.model = model
        self.threads = max(1, threads)
        # (column, dtype) pairs → whether validation returns such a frame unchanged.
        self._unchanged: dict[tuple[tuple[Any, Any], ...], bool] = {}

    @classmethod
    def load(cls, model_dir: str, digest: str, threads: int = 1) -> ChunkRunner:
        # Verified again here: a worker never trusts files it did not check itself.
        raw, manifest = load_dir(Path(model_dir), expected_digest=digest, trusted=True)
        return cls(LoadedModel(raw=raw, manifest=manifest, digest=digest), threads)

    def run(self, task: Task) -> list[ChunkDone]:
        return self.write(task, self.predict(task))

    def predict(self, task: Task) -> list[Predicted]:
        import pyarrow.parquet as pq

        # The whole job fails, not each row: no row can be answered.
        self.model.require_method(task.method)

        first = task.chunks[0]
        wanted = [*task.features, *([task.id_column] if task.id_column else [])]
        columns = list(dict.fromkeys(wanted))
        table = pq.ParquetFile(first.file).read_row_groups(
            list(first.row_groups), columns=columns, use_threads=self.threads > 1
        )
        return [self._chunk(task, chunk, table) for chunk in task.chunks]

    def write(self, task: Task, predicted: list[Predicted]) -> list[ChunkDone]:
        """Each chunk's file, written whole under a temporary name and renamed into place."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        done = []
        for p in predicted:
            final = Path(task.out_dir) / chunk_name(p.chunk.index)
            tmp = Path(task.tmp_dir) / f"{final.name}.{uuid.uuid4().hex}.part"
            id_field, *rest = list(p.table.schema)
            # A dictionary pays for predicted classes, which repeat; not for floats (scores,
            # regression), which rarely do: measured on 100,000 float predictions, 16 ms a
            # chunk with one against 5.5 ms without. Integer ids (the generated row numbers
            # above all) are stored as deltas: a few bytes a chunk, not 8 a row, so the
            # output is written, hashed and read back in a fraction of the time.
            repeating = [f.name for f in rest if not pa.types.is_floating(f.type)]
            deltas = {id_field.name: "DELTA_BINARY_PACKED"}
            pq.write_table(
                p.table,
                tmp,
                use_dictionary=repeating,
                column_encoding=deltas if pa.types.is_integer(id_field.type) else None,
            )
            os.replace(tmp, final)
            done.append(ChunkDone(p.chunk.index, p.chunk.rows, p.failed, p.samples, p.where))
        return done

    def _chunk(self, task: Task, chunk: Chunk, table: pa.Table) -> Predicted:
        import pyarrow as pa

        part = table.slice(chunk.offset, chunk.rows)
        # Without pandas metadata: its index would describe the whole file, not this slice.
        frame = (
            part.select(list(task.features))
            .replace_schema_metadata(None)
            .to_pandas(use_threads=self.threads > 1)
        )
        if task.id_column:
            ids = part.column(task.id_column)
            id_name = task.id_column
        else:
            import numpy as np

            rows = np.arange(chunk.first_row, chunk.first_row + chunk.rows, dtype=np.int64)
            ids = pa.chunked_array([pa.array(rows)])
            id_name = ROW_COLUMN
        predictions, errors, where = self._predict(frame, task.max_failed, task.method)
        names = [id_name, *(n for n in predictions.column_names if n != id_name), ERROR_COLUMN]
        out = pa.table(
            [ids, *(predictions.column(n) for n in names[1:-1]), pa.chunked_array([errors])],
            names=names,
        )
        samples = tuple(
            f"{ids[i].as_py()!r}: {errors[i].as_py()}"
            for i in _first_valid(errors, 3)  # the rows that failed
        )
        return Predicted(chunk, out, chunk.rows - errors.null_count, samples, where)

    # -- prediction with failed rows isolated ---------------------------------------------------
    def _predict(
        self, frame: pd.DataFrame, max_failed: int, method: str = "predict"
    ) -> tuple[pa.Table, pa.Array, str]:
        """The predictions, each row's error (null: none), and where the user's code failed
        first (the model's own code, when it is the user's)."""
        import pyarrow as pa

        n = len(frame)
        try:
            data = self._validate(frame)
        except Exception as exc:  # e.g. one file of a directory with other column types
            errors = pa.array([_message(exc)] * n, pa.string())
            return pa.table({PREDICTION: pa.nulls(n)}), errors, user_frame(exc)
        where = ""
        done: list[tuple[int, pa.Table]] = []
        failed: list[tuple[int, int, str]] = []
        failed_rows = 0
        stack = [(0, n)]
        while stack:
            lo, hi = stack.pop()
            if failed_rows > max_failed:
                failed.append((lo, hi, _OVER_BUDGET))
                failed_rows += hi - lo
                continue
            try:
                done.append((lo, self._table(_rows(data, lo, hi), hi - lo, method)))
            except Exception as exc:
                if hi - lo == 1:
                    failed.append((lo, hi, _message(exc)))
                    failed_rows += 1
                    where = where or user_frame(exc)
                else:
                    mid = (lo + hi) // 2
                    stack += [(mid, hi), (lo, mid)]
        if not failed:
            (_, only), *rest = sorted(done, key=lambda d: d[0])
            tables = [only, *(t for _, t in rest)]
            combined = pa.concat_tables(tables, promote_options="permissive")
            return combined, pa.nulls(n, pa.string()), ""
        schema = done[0][1].schema if done else pa.schema([(PREDICTION, pa.null())])
        parts: list[tuple[int, pa.Table, str | None]] = [(lo, t, None) for lo, t in done]
        parts += [(lo, _nulls(schema, hi - lo), msg) for lo, hi, msg in failed]
        parts.sort(key=lambda p: p[0])
        tables = [t for _, t, _ in parts]
        messages: list[str | None] = []
        for _, t, msg in parts:
            messages += [msg] * t.num_rows
        combined = pa.concat_tables(tables, promote_options="permissive")
        return combined, pa.array(messages, pa.string()), where

    def _validate(self, frame: pd.DataFrame) -> Any:
        """``model.validate(frame)``, skipped when it would return the frame unchanged.

        Validating checks column names and dtypes and converts what the signature allows;
        the values matter only when whole floats are given for an integer column, and then
        the dtype changes. So validating an empty frame of the same columns and dtypes
        shows whether a chunk would come back as it is, once per set of dtypes (the chunks
        of a file all have the same): about 1 ms a chunk saved for 30 columns."""
        import pandas as pd

        key = tuple(zip(frame.columns, frame.dtypes, strict=True))
        unchanged = self._unchanged.get(key)
        if unchanged is None:
            try:
                probe = self.model.validate(frame.iloc[:0])
            except Exception:  # the whole frame raises the same, or says better why
                probe = None
            unchanged = (
                isinstance(probe, pd.DataFrame)
                and list(probe.columns) == list(frame.columns)
                and probe.dtypes.equals(frame.dtypes)
            )
            self._unchanged[key] = unchanged
        return frame if unchanged else self.model.validate(frame)

    def _table(self, data: Any, rows: int, method: str = "predict") -> pa.Table:
        """The model's output for ``data`` as columns: ``prediction``, ``prediction_<i>`` for
        a 2-D array, or a DataFrame's own columns (the class labels, for ``predict_proba``)."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa

        output = self.model.predict(data, validate=False, method=method)
        if isinstance(output, pd.DataFrame):
            table = pa.Table.from_pandas(output, preserve_index=False)
            table = table.rename_columns([str(c) for c in output.columns])
        elif isinstance(output, pd.Series):
            table = pa.table({PREDICTION: pa.Array.from_pandas(output)})
        else:
            array = np.asarray(output)
            if array.ndim == 1:
                table = pa.table({PREDICTION: array})
            elif array.ndim == 2:
                table = pa.table({f"{PREDICTION}_{i}": array[:, i] for i in range(array.shape[1])})
            else:
                raise ValueError(f"the model returned an array of shape {array.shape}")
        if table.num_rows != rows:
            raise ValueError(f"the model returned {table.num_rows} predictions for {rows} rows")
        return table


def _rows(data: Any, lo: int, hi: int) -> Any:
    iloc = getattr(data, "iloc", None)
    return data[lo:hi] if iloc is None else iloc[lo:hi]


def _nulls(schema: pa.Schema, rows: int) -> pa.Table:
    import pyarrow as pa

    return pa.table([pa.nulls(rows, f.type) for f in schema], schema=schema)


def _message(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:_MAX_MESSAGE]


def _first_valid(array: pa.Array, limit: int) -> list[int]:
    import pyarrow.compute as pc

    positions = pc.indices_nonzero(array.is_valid())
    return [int(p) for p in positions[:limit].to_pylist()]


# -- in a worker process ------------------------------------------------------------------------
# One per worker process: the runner, or why the model could not be loaded.
_PROCESS: dict[str, Any] = {}


def limit_threads(threads: int, *, forked: bool = False) -> None:
    """In a worker process: the model's native thread pools (BLAS, OpenMP) and Arrow's keep
    at most ``threads`` cores busy. A forked process gets one OpenMP thread whatever its
    share: GNU OpenMP's thread pool does not survive a fork, and a parallel region in the
    child of a process that had used it waits forever (one thread runs no pool)."""
    import pyarrow as pa
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    if forked:
        threadpool_limits(1, user_api="openmp")
    pa.set_cpu_count(threads)


# How often a worker looks whether the process that started it is still there.
PARENT_POLL_SECONDS = 0.5


def exit_with_parent() -> None:
    """End this worker once the process that started it is gone. A driver killed with
    SIGKILL cannot tell its workers, and they would wait on the task queue forever (the
    queue's pipe stays open in every one of them), each holding its share of memory. A
    thread rather than PR_SET_PDEATHSIG: that fires when the *thread* that forked exits."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="modelwright-parent-watch", daemon=True).start()


def init_process(model_dir: str, digest: str, threads: int) -> None:
    """Initializer of a spawned process: load once. A failure is kept and raised by the
    first task, where the driver sees it (an initializer that raises only breaks the pool)."""
    exit_with_parent()
    try:
        limit_threads(threads)
        _PROCESS["runner"] = ChunkRunner.load(model_dir, digest, threads)
    except Exception as exc:
        _PROCESS["error"] = exc


def adopt_runner(runner: ChunkRunner, threads: int) -> None:
    """Initializer of a forked process: the parent's loaded model, inherited, not pickled."""
    # Fresh standard streams: a thread of the parent (a progress bar) may have held the
    # lock of one when it forked, and a warning printed here would wait for it forever.
    sys.stdout = open(os.dup(1), "w", buffering=1, closefd=True)  # noqa: SIM115
    sys.stderr = open(os.dup(2), "w", buffering=1, closefd=True)  # noqa: SIM115
    exit_with_parent()
    try:
        limit_threads(threads, forked=True)
    except Exception as exc:
        _PROCESS["error"] = exc
        return
    _PROCESS["runner"] = runner


def run_in_process(task: Task) -> list[ChunkDone]:
    runner: ChunkRunner | None = _PROCESS.get("runner")
    if runner is None:
        raise _PROCESS.get("error") or RuntimeError("the worker process has no model loaded")
    return runner.run(task)
