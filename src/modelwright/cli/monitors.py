"""``monitor create/list/show/run/history/delete``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from modelwright.cli._app import client_of, err_console
from modelwright.cli._options import Env, FilterEnv, FilterWorkspace, Json, PageToken, Workspace
from modelwright.cli._output import console, emit_json, fmt, print_one, print_rows, table
from modelwright.errors import InvalidInput
from modelwright.monitors import alert_models as am
from modelwright.monitors import models as mm

monitor_app = typer.Typer(
    help="Monitors: an endpoint's captured traffic (or a dataset series: batch outputs) "
    "against a baseline dataset version (drift, data quality) and its serving statistics, "
    "over a sliding window.",
    no_args_is_help=True,
)

MonitorName = Annotated[str, typer.Argument(help="The monitor.")]


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")


def _signals(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in mm.SIGNALS]
    if unknown or not names:
        raise InvalidInput(
            f"--signals: expected some of {', '.join(mm.SIGNALS)} (got {text!r})",
            details={"field": "--signals"},
        )
    return names


def _thresholds(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(value)
        except ValueError:
            raise InvalidInput(
                f"--threshold: expected NAME=NUMBER such as error_rate=0.01 (got {item!r})",
                details={"field": "--threshold"},
            ) from None
    return out


def figure(v: float | None) -> str:
    """A monitor's value or threshold, to four significant digits."""
    return "-" if v is None else f"{v:.4g}"


_RESULT_COLUMNS = ["signal", "metric", "feature", "value", "threshold", "status", "detail"]


def _result(r: mm.MonitorResult) -> list[object]:
    return [r.signal, r.metric, r.feature, figure(r.value), figure(r.threshold), r.status, r.detail]


def _watched(m: mm.MonitorInfo) -> str:
    return f"endpoint {m.endpoint}" if m.endpoint is not None else f"series {m.dataset}"


def _features(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    if not names:
        raise InvalidInput(
            f"--features: expected column names a,b,c (got {text!r})",
            details={"field": "--features"},
        )
    return names


def _show(d: mm.MonitorDetail) -> None:
    console.print(
        f"[bold]Monitor {d.name}[/bold] {d.workspace}/{d.environment} {_watched(d)} "
        f"against {d.baseline}: window {d.window_seconds}s, "
        f"schedule {d.schedule or 'none (on demand)'}, signals {', '.join(d.signals)}"
    )
    if d.last_evaluated_at is None:
        console.print("not evaluated yet: modelwright monitor run " + d.name)
        return
    console.print(f"latest evaluation {fmt(d.last_evaluated_at)} UTC: [bold]{d.status}[/bold]")
    table("Latest evaluation", _RESULT_COLUMNS, [_result(r) for r in d.latest])


@monitor_app.command("create")
def create(
    ctx: typer.Context,
    name: MonitorName,
    baseline: Annotated[
        str, typer.Option("--baseline", help="Baseline dataset version: customers@v2.")
    ],
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="The endpoint watched.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            help="Or the dataset series watched: the versions registered in each window.",
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(
            help="--dataset: comma-separated columns compared (default: the baseline's "
            "but the prediction and label columns)."
        ),
    ] = None,
    prediction_column: Annotated[
        str, typer.Option(help="--dataset: the series' column of predictions.")
    ] = "prediction",
    window: Annotated[str, typer.Option(help="Traffic each evaluation reads: 1h, 30m.")] = "1h",
    schedule: Annotated[
        str | None, typer.Option(help="Cron expression (UTC): '*/5 * * * *'.")
    ] = None,
    signals: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: drift,prediction,quality,performance,service "
            "(default drift,quality,service; for --dataset drift,quality; performance and "
            "service need an endpoint)."
        ),
    ] = None,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=NUMBER (repeatable), a value above it alerts: drift_share, "
            "missing_share, out_of_range_share, unseen_share, type_mismatch_share, "
            "error_rate, p50_ms, p99_ms, log_loss, mae, rmse, mape; drift and "
            "prediction_drift (the drift test's threshold); min_rows, labelled_share, "
            "accuracy, precision, recall, f1, roc_auc, r2 (lower values alert)."
        ),
    ] = None,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    task: Annotated[
        str | None,
        typer.Option(help="performance: classification or regression (default: from labels)."),
    ] = None,
    baseline_predictions: Annotated[
        str,
        typer.Option(
            help="prediction: the baseline's predictions are the served model's (model) or "
            "the baseline's --label-column (label)."
        ),
    ] = "model",
    label_column: Annotated[
        str | None, typer.Option(help="The baseline's column of true outcomes.")
    ] = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Create a monitor of an endpoint (needs endpoint.deploy in the environment) or of a
    dataset series (needs data.write)."""
    from modelwright.cli._times import parse_duration

    d = client_of(ctx).create_monitor(
        name,
        endpoint=endpoint,
        dataset=dataset,
        baseline=baseline,
        window_seconds=int(parse_duration(window, "--window").total_seconds()),
        schedule=schedule,
        signals=_signals(signals),  # type: ignore[arg-type]  # checked above
        thresholds=_thresholds(threshold),
        description=description,
        task=task,  # type: ignore[arg-type]  # checked by the request model
        baseline_predictions=baseline_predictions,  # type: ignore[arg-type]  # likewise
        label_column=label_column,
        features=_features(features),
        prediction_column=prediction_column,
        workspace=workspace,
        environment=env,
    )
    print_one(d, _show, json=json)


@monitor_app.command("labels")
def labels(
    ctx: typer.Context,
    name: MonitorName,
    file: Annotated[
        Path | None, typer.Option("--file", help="A CSV or Parquet file of labels.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option(help="A dataset version of labels: labels@v3.")
    ] = None,
    id_column: Annotated[str, typer.Option(help="The column of request ids.")] = "request_id",
    label_column: Annotated[str, typer.Option(help="The column of labels.")] = "label",
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Send the true outcomes of the endpoint's captured requests, keyed by request id (needs
    data.write); a request id sent again keeps its last label."""
    if (file is None) == (dataset is None):
        raise InvalidInput("give either --file or --dataset", details={"field": "--file"})
    frame = None if file is None else _read_labels(file)
    r = client_of(ctx).log_labels(
        name,
        frame,
        dataset=dataset,
        id_column=id_column,
        label_column=label_column,
        workspace=workspace,
        environment=env,
    )
    if json:
        emit_json(r)
        return
    console.print(
        f"{r.received} label(s): {r.stored} new, {r.replaced} replaced; unknown: {r.unknown}"
        + (f" (e.g. {', '.join(r.unknown_examples)})" if r.unknown else ""),
        markup=False,
    )


def _read_labels(path: Path) -> Any:
    import pandas as pd

    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise InvalidInput(f"--file: {path} is empty", details={"field": "--file"}) from None
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            f"--file: cannot read {path} ({exc})", details={"field": "--file"}
        ) from None


@monitor_app.command("list")
def list_monitors(
    ctx: typer.Context,
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset series.")] = None,
    workspace: FilterWorkspace = None,
    env: FilterEnv = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Monitors of endpoints and dataset series you may see."""
    found = client_of(ctx).list_monitors(
        workspace=workspace,
        environment=env,
        endpoint=endpoint,
        dataset=dataset,
        limit=limit,
        page_token=page_token,
    )
    print_rows(
        found,
        f"Monitors ({len(found)})",
        ["name", "watches", "baseline", "window", "schedule", "last evaluated", "status"],
        lambda m: (
            m.name,
            f"{m.workspace}/{m.environment} {_watched(m)}",
            m.baseline,
            f"{m.window_seconds}s",
            m.schedule,
            m.last_evaluated_at,
            m.status,
        ),
        json=json,
        # The JSON of a monitor list is its rows, whatever page was asked for.
        paged=False,
    )


@monitor_app.command("show")
def show(
    ctx: typer.Context,
    name: MonitorName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """The monitor and its latest evaluation as a table."""
    print_one(
        client_of(ctx).get_monitor(name, workspace=workspace, environment=env), _show, json=json
    )


@monitor_app.command("run")
def run(
    ctx: typer.Context,
    name: MonitorName,
    detach: Annotated[bool, typer.Option("--detach", help="Print the job id only.")] = False,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Evaluate the monitor now (a job; embedded: run in this process), then show it."""
    client = client_of(ctx)
    r = client.run_monitor(name, wait=not detach, workspace=workspace, environment=env)
    if detach:
        print_one(r, lambda r: console.print(f"job {r.job_id}"), json=json)
        return
    job = client.get_job(r.job_id)
    print_one(client.get_monitor(name, workspace=workspace, environment=env), _show, json=json)
    if job.status != "succeeded":
        # On stderr: with --json, stdout holds the monitor alone.
        err_console.print(f"job {job.id} {job.status}: {job.error or ''}", markup=False)
        raise typer.Exit(1)


@monitor_app.command("history")
def history(
    ctx: typer.Context,
    name: MonitorName,
    signal: Annotated[
        str | None,
        typer.Option(help="drift, prediction, quality, performance or service."),
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help=f"Only this metric; by signal, {am.metrics_help()}.")
    ] = None,
    feature: Annotated[str | None, typer.Option(help="One input feature.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time or age: 1d, 2h.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many values (the latest).")] = 1000,
    page_token: PageToken = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Values of the monitor's evaluations over time, oldest first."""
    from modelwright.cli._times import parse_time

    found = client_of(ctx).monitor_history(
        name,
        signal=signal,  # type: ignore[arg-type]  # checked by the request model
        metric=metric,
        feature=feature,
        since=parse_time(since, "--since"),
        limit=limit,
        workspace=workspace,
        environment=env,
        page_token=page_token,
    )
    print_rows(
        found,
        f"History of {name} ({len(found)})",
        ["evaluated (UTC)", *_RESULT_COLUMNS],
        lambda r: [fmt(r.evaluated_at), *_result(r)],
        json=json,
        paged=page_token is not None,
    )


@monitor_app.command("delete")
def delete(
    ctx: typer.Context,
    name: MonitorName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Delete the monitor, its schedule and its history."""
    print_one(
        client_of(ctx).delete_monitor(name, workspace=workspace, environment=env),
        lambda m: console.print(f"monitor {m.name} deleted"),
        json=json,
    )
