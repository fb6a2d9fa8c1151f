"""``run_batch``: a model version over a dataset version, chunked, parallel, resumable.

Everything that can be checked is checked before the run starts (model, input, id column,
signature, options), so bad input leaves no trace. The job is a tracked run: the input
version is recorded as its input, the output version as its output. Chunk outputs land in a
work directory keyed by what determines them; a second attempt of the same job keeps the
chunks already there. Nothing is registered unless every chunk is done and the failed-row
share stayed within the threshold.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from modelwright.batch._plan import Chunk, Task, job_key, plan_chunks, plan_tasks
from modelwright.batch._pools import EXECUTORS, ExecutorName, Pool, make_pool, resolve_executor
from modelwright.batch._worker import (
    ERROR_COLUMN,
    PREDICTION,
    ROW_COLUMN,
    ChunkDone,
    chunk_name,
)
from modelwright.client import Client
from modelwright.client._cache import cache_dir
from modelwright.core.machine import usable_cores
from modelwright.core.names import check_name
from modelwright.data.models import DatasetVersionInfo, parse_ref
from modelwright.data.tabular import TABULAR, read_table
from modelwright.errors import BatchFailed, InvalidInput, ModelwrightError, user_frame
from modelwright.registry.models import ModelVersionInfo
from modelwright.registry.predict import check_method
from modelwright.registry.signature import Signature, validate_input

if TYPE_CHECKING:
    import pyarrow as pa

    from modelwright.client._tracking import ActiveRun

__all__ = ["BatchProgress", "BatchResult", "run_batch"]

EXPERIMENT = "batch"
_SAMPLES = 3  # failed rows quoted in an error


@dataclass(frozen=True)
class BatchProgress:
    phase: Literal["predict", "register"]
    rows: int  # done so far, resumed chunks included
    total_rows: int
    failed_rows: int
    chunks: int
    total_chunks: int
    resumed_chunks: int


class BatchResult(BaseModel):
    run_id: str
    model: str = Field(description="The model version used: models:/<name>/<version>.")
    input: str = Field(description="<environment>/<name>@v<version>")
    output: DatasetVersionInfo
    rows: int
    failed_rows: int
    chunks: int
    resumed_chunks: int
    seconds: float
    rows_per_second: float = Field(description="Rows predicted by this attempt per second.")


@dataclass
class _Tally:
    total_rows: int
    total_chunks: int
    rows: int = 0
    failed: int = 0
    chunks: int = 0
    resumed: int = 0

    def add(self, done: ChunkDone) -> None:
        self.rows += done.rows
        self.failed += done.failed
        self.chunks += 1

    def progress(self, phase: Literal["predict", "register"]) -> BatchProgress:
        return BatchProgress(
            phase,
            self.rows,
            self.total_rows,
            self.failed,
            self.chunks,
            self.total_chunks,
            self.resumed,
        )


@dataclass
class _Job:
    """Everything decided before the run starts."""

    workspace: str
    environment: str
    input_env: str
    name_ref: str
    source: str
    model: ModelVersionInfo
    key: str
    work: Path
    out_dir: Path
    tmp_dir: Path
    features: tuple[str, ...]
    chunks: list[Chunk]
    tally: _Tally


def run_batch(
    client: Client,
    model_uri: str,
    input_ref: str,
    output_name: str,
    *,
    environment: str | None = None,
    workspace: str | None = None,
    id_column: str | None = None,
    chunk_rows: int = 100_000,
    workers: int | None = None,
    executor: ExecutorName = "auto",
    ray_address: str | None = None,
    error_threshold: float = 0.01,
    resume: bool = True,
    work_dir: str | os.PathLike[str] | None = None,
    keep_work_dir: bool = False,
    progress: Callable[[BatchProgress], None] | None = None,
    method: str = "predict",
) -> BatchResult:
    """Predict ``model_uri`` (``models:/churn@champion``) over ``input_ref`` (``churn@v3``,
    ``prod/churn@v3``) and register the predictions as the next version of ``output_name``.

    The output keeps ``id_column`` (or ``_row``, each row's position in the input) next to
    the model's outputs (``prediction``, ``prediction_<i>``, or a DataFrame's columns) and
    ``_error``: null, or why that row has no prediction. The job stops with ``BatchFailed``
    as soon as the share of failed rows among those done passes ``error_threshold``.
    ``method`` is the prediction method: ``predict``, ``predict_proba`` (one column per
    class, named by its label) or ``decision_function``.
    ``workers`` defaults to the usable cores; ``executor`` is ``auto`` (this process for one
    worker; for more, this process and local processes forked from it once it has loaded the
    model, or spawned ones where forking is not safe), ``process`` (spawned local processes,
    even for one worker: a model that crashes then takes a worker down, not the caller),
    ``ray`` (a local Ray instance, or ``ray_address``) or ``inline`` (this process). Done
    chunks are kept in ``work_dir`` (default: ``<cache>/batch/<job key>``) until the output
    is registered, so the same job run again after a failure resumes from them.
    """
    started = time.perf_counter()
    _check_options(output_name, chunk_rows, workers, executor, error_threshold)
    check_method(method)
    job = _prepare(
        client,
        model_uri,
        input_ref,
        output_name,
        environment=environment,
        workspace=workspace,
        id_column=id_column,
        chunk_rows=chunk_rows,
        resume=resume,
        work_dir=work_dir,
        method=method,
    )
    todo = [c for c in job.chunks if not (job.out_dir / chunk_name(c.index)).is_file()]
    model_dir = client.download_model(job.model)
    n_workers = max(1, min(workers or usable_cores(), len(todo) or 1))
    tasks = plan_tasks(
        todo,
        n_workers,
        features=job.features,
        id_column=id_column,
        out_dir=job.out_dir,
        tmp_dir=job.tmp_dir,
        max_failed=math.floor(error_threshold * job.tally.total_rows),
        method=method,
    )
    tally = job.tally
    # Started first: the workers load the model while the run is being recorded.
    pool = (
        make_pool(
            resolve_executor(executor, n_workers),
            model_dir=str(model_dir),
            digest=job.model.digest,
            workers=n_workers,
            address=ray_address,
        )
        if tasks
        else None
    )
    try:
        run = client.start_run(
            EXPERIMENT,
            workspace=job.workspace,
            environment=job.environment,
            name=f"batch {output_name}",
            tags={"modelwright.batch.job": job.key, "modelwright.batch.work_dir": str(job.work)},
        )
    except BaseException:
        if pool is not None:
            pool.close(cancel=True)
        raise
    try:
        _record_inputs(client, job, run)
        run.log_params(
            {
                "model": job.model.uri,
                "model_digest": job.model.digest,
                "input": job.source,
                "output": output_name,
                "chunk_rows": chunk_rows,
                "id_column": id_column or ROW_COLUMN,
                "executor": resolve_executor(executor, n_workers),  # what ran
                "workers": n_workers,
                "error_threshold": error_threshold,
                "method": method,
            }
        )
        resumed_rows = tally.rows
        if progress is not None:
            progress(tally.progress("predict"))
        if pool is not None:
            _execute(pool, tasks, tally, error_threshold, progress, job.source)
            pool.close(cancel=False)
            pool = None
        if progress is not None:
            progress(tally.progress("register"))
        _unify_schemas(sorted(job.out_dir.glob("chunk-*.parquet")), job.tmp_dir)
        output = client.register_dataset(
            output_name,
            job.out_dir,
            workspace=job.workspace,
            environment=job.environment,
            run_id=run.id,
            description=f"Predictions of {job.model.uri} on {job.source}",
        )
        seconds = time.perf_counter() - started
        rate = (tally.rows - resumed_rows) / seconds if seconds > 0 else 0.0
        run.log_metrics(
            {
                "rows": tally.rows,
                "failed_rows": tally.failed,
                "rows_per_second": rate,
                "chunks": tally.total_chunks,
                "resumed_chunks": tally.resumed,
            }
        )
        run.end("finished")
    except BaseException as exc:
        if pool is not None:  # whatever failed: no worker writes anything once it is recorded
            pool.close(cancel=True)
        if isinstance(exc, KeyboardInterrupt):
            run.end("killed", error="interrupted; done chunks are kept for the next attempt")
        elif isinstance(exc, ModelwrightError):
            run.end("failed", error=exc.message)
        else:
            run.end("failed", error=f"{type(exc).__name__}: {exc}")
        raise
    if not keep_work_dir:
        shutil.rmtree(job.work, ignore_errors=True)
    return BatchResult(
        run_id=run.id,
        model=job.model.uri,
        input=job.source,
        output=output,
        rows=tally.rows,
        failed_rows=tally.failed,
        chunks=tally.total_chunks,
        resumed_chunks=tally.resumed,
        seconds=seconds,
        rows_per_second=rate,
    )


def _record_inputs(client: Client, job: _Job, run: ActiveRun) -> None:
    # The input version, as the run's input (and checked against data isolation): a cache
    # hit. And the model version too: lineage then answers "which model made these
    # predictions" from the output dataset.
    client.load_dataset(
        job.name_ref, workspace=job.workspace, environment=job.input_env, run_id=run.id, as_="path"
    )
    client.use_model_version(
        job.model.name, job.model.version, run_id=run.id, workspace=job.workspace
    )


def _prepare(
    client: Client,
    model_uri: str,
    input_ref: str,
    output_name: str,
    *,
    environment: str | None,
    workspace: str | None,
    id_column: str | None,
    chunk_rows: int,
    resume: bool,
    work_dir: str | os.PathLike[str] | None,
    method: str = "predict",
) -> _Job:
    """Resolve, check and plan: reads only (downloads go to the cache), no run yet."""
    ws = client.resolve_workspace(workspace)
    env = client.resolve_environment(ws, environment)
    input_env, name_ref = _split_env(input_ref, env)
    model = client.get_model_version(model_uri, workspace=ws, environment=env)
    _check_method(model, method)
    data = client.get_dataset_version(name_ref, workspace=ws, environment=input_env)
    source = f"{data.environment}/{data.ref}"
    if data.kind != "dataframe" and data.format not in TABULAR:
        raise InvalidInput(
            f"input: {source} is {data.format} data, not a table", details={"field": "input"}
        )
    if id_column is not None:
        _check_id_column(id_column, data, source)
    key = job_key(
        model=model.digest,
        input=data.digest,
        output=f"{ws}/{env}/{output_name}",
        chunk_rows=chunk_rows,
        id_column=id_column,
        # Only when not predict: the key of a predict job is the one it always was.
        **({"method": method} if method != "predict" else {}),
    )
    work = Path(work_dir) if work_dir else cache_dir(client.transport) / "batch" / key
    if not resume:
        shutil.rmtree(work, ignore_errors=True)
    out_dir, tmp_dir = _prepare_work_dir(work, key)
    # The job acts from its own environment (its run, made later, will too): a prod job reads
    # prod input, a dev job never does.
    with client.acting(f"{ws}/{env}"):
        path = client.load_dataset(name_ref, workspace=ws, environment=input_env, as_="path")
    if not isinstance(path, Path):  # as_="path" returns one
        raise TypeError("load_dataset(as_='path') returned a frame")
    files = _parquet_files(path, data, work)
    features = _features(model, files[0], id_column, source)
    chunks = plan_chunks(files, chunk_rows)
    tally = _Tally(sum(c.rows for c in chunks), len(chunks))
    for done in _done_chunks(chunks, out_dir):
        tally.add(done)
        tally.resumed += 1
    return _Job(
        ws,
        env,
        input_env,
        name_ref,
        source,
        model,
        key,
        work,
        out_dir,
        tmp_dir,
        features,
        chunks,
        tally,
    )


# -- checks before anything starts ---------------------------------------------------------------
def _check_options(
    output_name: str,
    chunk_rows: int,
    workers: int | None,
    executor: str,
    error_threshold: float,
) -> None:
    check_name(output_name, "output")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidInput(
            f"chunk_rows: must be a whole number of at least 1 (got {chunk_rows!r})",
            details={"field": "chunk_rows"},
        )
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise InvalidInput(
            f"workers: must be at least 1 (got {workers!r})", details={"field": "workers"}
        )
    if executor not in EXECUTORS:
        raise InvalidInput(
            f"executor: unknown executor {executor!r} (expected {', '.join(EXECUTORS)})",
            details={"field": "executor"},
        )
    if not 0.0 <= error_threshold <= 1.0 or math.isnan(error_threshold):
        raise InvalidInput(
            f"error_threshold: must be a share between 0 and 1, e.g. 0.01 for 1% "
            f"(got {error_threshold!r})",
            details={"field": "error_threshold"},
        )


def _check_method(model: ModelVersionInfo, method: str) -> None:
    """The version must offer ``method`` where its signature records its methods; one
    logged before they were recorded is asked when its workers load it."""
    methods = list(model.signature.methods) if model.signature is not None else []
    if method != "predict" and methods and method not in methods:
        raise InvalidInput(
            f"method: {model.uri} has no {method} (it has {', '.join(methods)})",
            details={"field": "method", "value": method},
        )


def _split_env(ref: str, default: str) -> tuple[str, str]:
    """``prod/churn@v3`` → (prod, churn@v3); ``churn@v3`` → (default, churn@v3)."""
    env, slash, rest = ref.rpartition("/")
    if slash:
        check_name(env, "input")
    parse_ref(rest, "input")
    return (env if slash else default), rest


def _check_id_column(id_column: str, data: DatasetVersionInfo, source: str) -> None:
    if id_column in (ERROR_COLUMN, PREDICTION) or id_column.startswith(f"{PREDICTION}_"):
        raise InvalidInput(
            f"id_column: '{id_column}' is the name of an output column; the id column must "
            "have another name",
            details={"field": "id_column"},
        )
    names = [c.name for c in data.columns or []]
    if data.columns is not None and id_column not in names:
        raise InvalidInput(
            f"id_column: {source} has no column '{id_column}' (its columns: {_list(names)})",
            details={"field": "id_column", "column": id_column},
        )


def _features(
    model: ModelVersionInfo, file: Path, id_column: str | None, source: str
) -> tuple[str, ...]:
    """The columns the model reads, checked against its signature on the file's schema."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    names = [n for n in schema.names if not n.startswith("__index_level_")]
    if id_column is not None and id_column not in names:
        raise InvalidInput(
            f"id_column: {source} has no column '{id_column}' (its columns: {_list(names)})",
            details={"field": "id_column", "column": id_column},
        )
    signature: Signature | None = model.signature
    if signature is None or signature.inputs.kind != "dataframe":
        features = [n for n in names if n != id_column]
    else:
        features = [c.name for c in signature.inputs.columns]
        missing = [c for c in features if c not in names]
        if missing:
            raise InvalidInput(
                f"input: {source} lacks column{'s' if len(missing) > 1 else ''} "
                f"{_list(missing)} of the signature of {model.uri} (its columns: {_list(names)})",
                details={"field": "input", "columns": missing, "problem": "missing"},
            )
    if signature is not None:
        empty = schema.empty_table().select(features).replace_schema_metadata(None).to_pandas()
        try:
            validate_input(signature.inputs, empty)
        except InvalidInput as exc:
            problem = exc.message.removeprefix("input: ")
            raise InvalidInput(
                f"input: {source} does not match the signature of {model.uri}: {problem}",
                details=exc.details,
            ) from None
    return tuple(features)


def _list(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:20])
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


# -- the work directory ---------------------------------------------------------------------------
def _prepare_work_dir(work: Path, key: str) -> tuple[Path, Path]:
    """``<work>/chunks`` holds only complete chunk files (renamed into place from ``tmp``)."""
    marker = work / "job.json"
    if marker.is_file():
        try:
            found = json.loads(marker.read_text()).get("job")
        except (OSError, ValueError):
            found = None
        if found != key:
            raise InvalidInput(
                f"work_dir: '{work}' holds the chunks of another job; use another directory",
                details={"field": "work_dir"},
            )
    elif work.is_dir() and any(work.iterdir()):
        raise InvalidInput(
            f"work_dir: '{work}' exists and is not a batch job's directory",
            details={"field": "work_dir"},
        )
    out_dir, tmp_dir = work / "chunks", work / "tmp"
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"job": key}))
    for stale in tmp_dir.iterdir():  # left by a worker that died mid-write
        stale.unlink(missing_ok=True)
    return out_dir, tmp_dir


def _parquet_files(path: Path, data: DatasetVersionInfo, work: Path) -> list[Path]:
    """The input as Parquet files in order; other tabular formats are converted once (into
    the work directory, so a second attempt does not convert again)."""
    import pyarrow.parquet as pq

    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    if data.kind == "dataframe" or data.format == "parquet":
        return files
    staged = work / "input"
    if not staged.is_dir():
        tmp = work / f"input.{uuid.uuid4().hex}.part"
        tmp.mkdir(parents=True)
        for i, f in enumerate(files):
            pq.write_table(
                read_table(str(f), data.format, f"file '{f.name}'"), tmp / f"{i:06d}.parquet"
            )
        os.replace(tmp, staged)
    return sorted(staged.glob("*.parquet"))


def _done_chunks(chunks: list[Chunk], out_dir: Path) -> list[ChunkDone]:
    """Chunks a previous attempt finished; a file that does not read back whole is redone."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = []
    for chunk in chunks:
        path = out_dir / chunk_name(chunk.index)
        if not path.is_file():
            continue
        try:
            errors = pq.read_table(path, columns=[ERROR_COLUMN]).column(0)
        except (pa.ArrowException, OSError, KeyError):
            errors = None
        if errors is None or len(errors) != chunk.rows:
            path.unlink(missing_ok=True)
            continue
        done.append(ChunkDone(chunk.index, chunk.rows, chunk.rows - errors.null_count, ()))
    return done


# -- running ------------------------------------------------------------------------------------
def _execute(  # noqa: PLR0917
    pool: Pool,
    tasks: list[Task],
    tally: _Tally,
    threshold: float,
    progress: Callable[[BatchProgress], None] | None,
    source: str,
) -> None:
    """Keep every worker fed (two tasks each, so none waits for the next), count as tasks
    finish, stop at the first task that takes the failed share past the threshold."""
    queue = list(reversed(tasks))
    running: dict[Future[list[ChunkDone]], Task] = {}
    samples: list[str] = []
    where = ""  # where the user's code failed first
    while queue or running:
        while queue and len(running) < 2 * pool.workers:
            task = queue.pop()
            running[pool.submit(task)] = task
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=lambda f: running[f].chunks[0].index):
            task = running.pop(future)
            for done in _result(future, task, tally):
                tally.add(done)
                samples += done.errors[: _SAMPLES - len(samples)]
                where = where or done.where
        if progress is not None:
            progress(tally.progress("predict"))
        if tally.failed > threshold * tally.rows:
            raise BatchFailed(
                f"{tally.failed} of {tally.rows} rows done so far failed "
                f"({tally.failed / tally.rows:.2%}), more than the error threshold of "
                f"{threshold:.2%}; stopped, nothing registered. "
                + (
                    f"First failures ({_id_name(tasks)}: error): {'; '.join(samples)}"
                    if samples
                    else ""
                )
                + (f"\n  {where}" if where else ""),
                details={
                    "failed_rows": tally.failed,
                    "rows": tally.rows,
                    "error_threshold": threshold,
                    "input": source,
                    "errors": samples,
                    "where": where,
                },
            )


def _id_name(tasks: list[Task]) -> str:
    return tasks[0].id_column or ROW_COLUMN


def _result(future: Future[list[ChunkDone]], task: Task, tally: _Tally) -> list[ChunkDone]:
    first, last = task.chunks[0], task.chunks[-1]
    rows = f"rows {first.first_row}–{last.first_row + last.rows - 1}"
    try:
        return future.result()
    except BrokenProcessPool:
        raise BatchFailed(
            f"a worker process died while predicting {rows}; the {tally.chunks} chunks done "
            f"of {tally.total_chunks} are kept: run the same job again to resume",
            details={"chunks_done": tally.chunks, "chunks": tally.total_chunks},
        ) from None
    except ModelwrightError:
        raise
    except Exception as exc:
        where = user_frame(exc)
        raise BatchFailed(
            f"predicting {rows} failed: {type(exc).__name__}: {exc}; the {tally.chunks} "
            f"chunks done of {tally.total_chunks} are kept: run the same job again to resume"
            + (f"\n  {where}" if where else ""),
            details={"chunks_done": tally.chunks, "chunks": tally.total_chunks, "where": where},
        ) from None


def _unify_schemas(files: list[Path], tmp_dir: Path) -> None:
    """One schema across chunk files: a chunk whose rows all failed has null columns, and
    one may end with types that need promoting (int32 here, int64 there)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(f) for f in files]
    if all(s.equals(schemas[0]) for s in schemas):
        return
    target = pa.unify_schemas([s.remove_metadata() for s in schemas], promote_options="permissive")
    for f, s in zip(files, schemas, strict=True):
        if s.remove_metadata().equals(target):
            continue
        table = pq.read_table(f)
        columns = [
            table.column(field.name).cast(field.type)
            if field.name in table.column_names
            else pa.nulls(table.num_rows, field.type)
            for field in target
        ]
        fixed: pa.Table = pa.table(columns, schema=target)
        tmp = tmp_dir / f"{f.name}.{uuid.uuid4().hex}.part"
        pq.write_table(fixed, tmp)
        os.replace(tmp, f)
