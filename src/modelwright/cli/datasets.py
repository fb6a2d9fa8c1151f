"""``datasets list/show/register/diff``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Limit, PageToken, Workspace, scoped
from modelwright.cli._output import console, emit_json, fmt, print_one, print_rows, table
from modelwright.data.diff import DatasetDiff
from modelwright.data.models import DatasetProfile, DatasetVersionInfo

datasets_app = typer.Typer(
    help="Versioned datasets: content-addressed, with schema and profile.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
Env = Annotated[
    str | None,
    scoped("environment", "--env", "-e", otherwise="the first of the promotion path"),
]


def register(app: typer.Typer) -> None:
    app.add_typer(datasets_app, name="datasets")


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _num(v: object) -> str:
    if isinstance(v, float):
        return str(v) if math.isnan(v) or math.isinf(v) else f"{v:.6g}"
    return fmt(v)


@datasets_app.command("list")
def list_datasets(
    ctx: typer.Context,
    workspace: Workspace = None,
    env: Env = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """List datasets with their latest version."""
    rows = client_of(ctx).list_datasets(
        workspace=workspace, environment=env, page_token=page_token, limit=limit
    )
    print_rows(
        rows,
        f"Datasets ({len(rows)})",
        ["environment", "name", "latest", "versions", "kind", "format", "size", "rows", "updated"],
        lambda d: (
            d.environment,
            d.name,
            f"v{d.latest.version}" if d.latest else None,
            d.versions,
            d.latest.kind if d.latest else None,
            d.latest.format if d.latest else None,
            _size(d.latest.size) if d.latest else None,
            d.latest.rows if d.latest else None,
            d.latest.created_at if d.latest else d.created_at,
        ),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@datasets_app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name (latest and history) or name@v3.")],
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """A version's schema and profile; for a bare name also the history of versions."""
    client = client_of(ctx)
    if "@" in ref:
        info = client.get_dataset_version(ref, workspace=workspace, environment=env)
        print_one(info, print_version, json=json)
        return
    detail = client.get_dataset(ref, workspace=workspace, environment=env)
    latest = (
        client.get_dataset_version(f"{ref}@latest", workspace=workspace, environment=env)
        if detail.history
        else None
    )
    if json:
        emit_json({"dataset": detail, "latest": latest})
        return
    console.print(
        f"[bold]Dataset {detail.workspace}/{detail.environment}/{detail.name}[/bold] "
        f"{detail.description}".rstrip()
    )
    table(
        "Versions",
        [
            "version",
            "sha256",
            "kind",
            "format",
            "size",
            "files",
            "rows",
            "datastore",
            "created",
            "by",
            "run",
        ],
        [
            (
                f"v{v.version}",
                v.digest[:12],
                v.kind,
                v.format,
                _size(v.size),
                v.files,
                v.rows,
                v.datastore,
                v.created_at,
                v.created_by,
                v.run_id[:12] if v.run_id else None,
            )
            for v in reversed(detail.history)
        ],
    )
    if latest is not None:
        print_version(latest)


def print_version(info: DatasetVersionInfo) -> None:
    console.print(
        f"[bold]{info.workspace}/{info.environment}/{info.ref}[/bold] sha256:{info.digest}"
    )
    table(
        None,
        ["field", "value"],
        [
            ("kind", info.kind),
            ("format", info.format),
            ("size", f"{_size(info.size)} ({info.size} bytes)"),
            ("files", info.files),
            ("datastore", f"{info.datastore} ({info.classification})"),
            ("created", info.created_at),
            ("by", info.created_by),
            ("run", info.run_id),
        ],
    )
    if info.profile is not None:
        print_profile(info.profile)
    elif info.columns is None:
        console.print("[dim]no schema or profile (not tabular data)[/dim]")


def print_profile(profile: DatasetProfile) -> None:
    rows = []
    for name, c in profile.columns.items():
        top = ", ".join(f"{v} ({n})" for v, n in list((c.value_counts or {}).items())[:3])
        rows.append(
            (
                name,
                c.type,
                c.count,
                c.missing,
                c.distinct,
                _num(c.min),
                _num(c.max),
                _num(c.mean),
                _num(c.std),
                top or None,
            )
        )
    table(
        f"Profile ({profile.rows} rows)",
        [
            "column",
            "type",
            "count",
            "missing",
            "distinct",
            "min",
            "max",
            "mean",
            "std",
            "top values",
        ],
        rows,
    )


@datasets_app.command("register")
def register_dataset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    source: Annotated[Path, typer.Argument(help="A file or a directory.")],
    workspace: Workspace = None,
    env: Env = None,
    datastore: Annotated[
        str | None,
        typer.Option("--datastore", "-d", help="Datastore (default: the environment's only one)."),
    ] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    format: Annotated[
        str | None,
        typer.Option(help="parquet, csv, tsv, json (lines) or binary; default from the names."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run-id", help="Record it as this run's output.")
    ] = None,
    json: Json = False,
) -> None:
    """Register a file or directory as the next version of a dataset."""
    # Progress bars on stderr when it is a terminal (the client's default).
    info = client_of(ctx).register_dataset(
        name,
        source,
        workspace=workspace,
        environment=env,
        datastore=datastore,
        description=description,
        format=format,
        run_id=run_id,
    )
    if json:
        emit_json(info)
        return
    verb = "registered" if info.created else "unchanged, already"
    console.print(
        f"{verb} {info.workspace}/{info.environment}/{info.ref} "
        f"({info.kind}, {info.format}, {_size(info.size)}, {info.files} file(s), "
        f"sha256:{info.digest[:12]})"
    )


@datasets_app.command("copy")
def copy(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="The version to copy: [env/]name@version.")],
    to: Annotated[str, typer.Option("--to", help="Target environment.")],
    reason: Annotated[str, typer.Option(help="Why the copy is made (kept in the audit).")],
    to_workspace: Annotated[
        str | None, typer.Option(help="Target workspace (default: the same).")
    ] = None,
    to_datastore: Annotated[
        str | None, typer.Option(help="Target datastore (default: the only one).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Target name (default: the same).")] = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Copy a version into another environment (the bytes move on the server; audited).

    The one way production data may leave production: it needs read access to both
    environments and write access to the target.
    """
    info = client_of(ctx).copy_dataset(
        ref,
        to_environment=to,
        reason=reason,
        workspace=workspace,
        environment=env,
        to_workspace=to_workspace,
        to_datastore=to_datastore,
        to_name=name,
    )
    if json:
        emit_json(info)
        return
    console.print(
        f"copied {ref} to {info.workspace}/{info.environment}/{info.name}@v{info.version} "
        f"(sha256:{info.digest[:12]})"
    )


@datasets_app.command("diff")
def diff(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="From: name@version.")],
    b: Annotated[str, typer.Argument(help="To: name@version (or @version: same name as A).")],
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Schema and profile differences between two versions."""
    if b.startswith("@"):
        b = a.partition("@")[0] + b
    d = client_of(ctx).diff_datasets(a, b, workspace=workspace, environment=env)
    print_one(d, print_diff, json=json)


def print_diff(d: DatasetDiff) -> None:
    if d.same_content:
        console.print(f"{d.a} and {d.b} have the same content")
    table(
        f"{d.a} → {d.b}",
        ["", d.a, d.b],
        [
            ("size", _size(d.size[0]), _size(d.size[1])),
            ("files", d.files[0], d.files[1]),
            ("rows", d.rows[0], d.rows[1]),
        ],
    )
    schema_rows = [
        (c.name, c.status, c.type_a, c.type_b)
        for c in d.columns
        if c.status in ("added", "removed") or c.type_a != c.type_b
    ]
    if schema_rows:
        table("Schema changes", ["column", "change", "type a", "type b"], schema_rows)
    else:
        console.print("schema: unchanged")
    stat_rows: list[tuple[object, ...]] = [
        (c.name, s.stat, _num(s.a), _num(s.b), _num(s.change)) for c in d.columns for s in c.stats
    ]
    stat_rows += [
        (c.name, "new values", None, ", ".join(c.new_values), None)
        for c in d.columns
        if c.new_values
    ]
    stat_rows += [
        (c.name, "gone values", ", ".join(c.gone_values), None, None)
        for c in d.columns
        if c.gone_values
    ]
    if stat_rows:
        table("Profile changes", ["column", "statistic", "a", "b", "change"], stat_rows)
    else:
        console.print("profile: unchanged")
