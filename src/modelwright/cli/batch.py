"""``batch run``: a model version over a dataset version, registered as a new dataset version."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from modelwright.cli._app import client_of
from modelwright.cli._follow import submit as submit_job
from modelwright.cli._options import Detach, Env, Json, Submit, Workspace
from modelwright.cli._output import console, emit_json, table

if TYPE_CHECKING:
    from modelwright.batch import BatchProgress

batch_app = typer.Typer(
    help="Batch inference: predict over a dataset version, chunked and resumable.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(batch_app, name="batch")


@contextmanager
def _progress_bar() -> Iterator[Callable[[BatchProgress], None]]:
    """Rows done, failed rows and time left on stderr (nothing when not a terminal)."""
    err = Console(stderr=True)
    bar = Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    task = bar.add_task("predicting", total=None, failed=0)

    def update(p: BatchProgress) -> None:
        label = "predicting" if p.phase == "predict" else "registering"
        bar.update(
            task, description=label, completed=p.rows, total=p.total_rows, failed=p.failed_rows
        )

    with bar:
        yield update


@batch_app.command("run")
def run(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Argument(help="models:/<name>/<version> or models:/[<env>/]<name>@<alias>.")
    ],
    input: Annotated[
        str, typer.Option("--input", "-i", help="Dataset version: name@v3 or env/name@v3.")
    ],
    output: Annotated[
        str, typer.Option("--output", "-o", help="Dataset the predictions are registered as.")
    ],
    workspace: Workspace = None,
    env: Env = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column", help="Input column kept in the output to join back (default: _row)."
        ),
    ] = None,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", help="Rows per chunk.")] = 100_000,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Parallel workers (default: the cores).")
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="auto (this process, with processes forked from it for more workers), process (spawned), ray or inline.",
        ),
    ] = "auto",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="With --executor ray: ray://host:10001 or auto."),
    ] = None,
    error_threshold: Annotated[
        float,
        typer.Option(
            "--error-threshold", help="Stop when more than this share of rows fails (0 to 1)."
        ),
    ] = 0.01,
    no_resume: Annotated[
        bool, typer.Option("--no-resume", help="Start over instead of keeping done chunks.")
    ] = False,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Prediction method: predict, predict_proba (a column per class) or "
            "decision_function.",
        ),
    ] = "predict",
    submit: Submit = False,
    detach: Detach = False,
    json: Json = False,
) -> None:
    """Predict over a dataset version and register the output as a new dataset version."""
    from modelwright.batch import run_batch

    client = client_of(ctx)
    if submit:
        spec = {
            "kind": "batch.run",
            "model": model,
            "input": input,
            "output": output,
            "id_column": id_column,
            "chunk_rows": chunk_rows,
            "workers": workers,
            "executor": executor,
            "error_threshold": error_threshold,
            "resume": not no_resume,
            "method": method,
        }
        submit_job(client, spec, workspace=workspace, env=env, detach=detach, json=json)
        return
    with _progress_bar() as progress:
        result = run_batch(
            client,
            model,
            input,
            output,
            environment=env,
            workspace=workspace,
            id_column=id_column,
            chunk_rows=chunk_rows,
            workers=workers,
            executor=executor,  # type: ignore[arg-type]  # checked by run_batch
            ray_address=ray_address,
            error_threshold=error_threshold,
            resume=not no_resume,
            progress=progress,
            method=method,
        )
    if json:
        emit_json(result)
        return
    out = result.output
    table(
        f"Batch run {result.run_id}",
        ["model", "input", "output", "rows", "failed", "chunks", "resumed", "seconds", "rows/s"],
        [
            (
                result.model,
                result.input,
                f"{out.environment}/{out.ref}",
                f"{result.rows:,}",
                f"{result.failed_rows:,}",
                result.chunks,
                result.resumed_chunks,
                f"{result.seconds:.1f}",
                f"{result.rows_per_second:,.0f}",
            )
        ],
    )
    if result.resumed_chunks:
        console.print(
            f"resumed {result.resumed_chunks} of {result.chunks} chunks from an earlier attempt"
        )
