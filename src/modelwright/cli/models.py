"""``model list/show/versions/alias/history/leaderboard/package``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._follow import submit as submit_job
from modelwright.cli._options import (
    Detach,
    Env,
    FilterEnv,
    Json,
    Limit,
    PageToken,
    Submit,
    Workspace,
)
from modelwright.cli._output import console, emit_json, fmt, print_rows, table
from modelwright.registry.leaderboard import metric_help

if TYPE_CHECKING:
    from modelwright.registry.models import ModelVersionInfo
    from modelwright.registry.signature import Schema, Signature

model_app = typer.Typer(
    help="The model registry: versions, aliases, leaderboards, packages.", no_args_is_help=True
)
alias_app = typer.Typer(
    help="Aliases per environment (champion, challenger, ...).", no_args_is_help=True
)

ModelName = Annotated[str, typer.Argument(help="Registered model name.")]


def register(app: typer.Typer) -> None:
    model_app.add_typer(alias_app, name="alias")
    app.add_typer(model_app, name="model")


def _aliases(by_env: dict[str, list[str]] | dict[str, dict[str, int]]) -> str:
    parts = []
    for env, names in sorted(by_env.items()):
        items = [f"{a}→v{v}" for a, v in names.items()] if isinstance(names, dict) else names
        parts.append(f"{env}: {', '.join(items)}")
    return "; ".join(parts) or "-"


@model_app.command("list")
def list_models(
    ctx: typer.Context,
    workspace: Workspace = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Registered models with their latest version and aliases."""
    models = client_of(ctx).list_models(workspace, page_token=page_token, limit=limit)
    print_rows(
        models,
        f"Models ({len(models)})",
        ["name", "versions", "latest", "aliases", "description"],
        lambda m: (m.name, m.versions, m.latest_version, _aliases(m.aliases), m.description[:60]),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@model_app.command("show")
def show(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="models:/NAME/VERSION or models:/NAME@ALIAS")],
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """One version: flavor, signature, requirements, lineage, aliases."""
    v = client_of(ctx).get_model_version(uri, workspace=workspace, environment=env)
    if json:
        emit_json(v)
        return
    console.print(f"[bold]{v.name} v{v.version}[/bold] ({v.flavor})")
    sig = v.signature
    inputs = "-"
    if sig is not None:
        inputs = (
            ", ".join(f"{c.name}: {c.type}" for c in sig.inputs.columns)
            if sig.inputs.kind == "dataframe"
            else f"{sig.inputs.dtype}{tuple(sig.inputs.shape)}"
        )
    table(
        None,
        ["field", "value"],
        [
            ("digest", v.digest),
            ("class", v.describe.get("class")),
            ("registered in", v.environment),
            ("available in", v.available_in),
            ("aliases", _aliases(v.aliases)),
            ("run", v.run_id),
            ("datasets", v.datasets),
            ("inputs", inputs),
            *_outputs(sig),
            ("stored as", _storage(v)),
            ("requirements", v.requirements),
            ("by", v.created_by),
            ("at", v.created_at),
            ("description", v.description),
            ("tags", ", ".join(f"{k}={t}" for k, t in v.tags.items())),
        ],
    )


def _schema_text(schema: Schema) -> str:
    if schema.kind == "dataframe":
        return ", ".join(f"{c.name}: {c.type}" for c in schema.columns)
    return f"{schema.dtype}{tuple(schema.shape)}"


def _outputs(sig: Signature | None) -> list[tuple[str, str]]:
    """One row per prediction method: what it returns (predict's alone for older versions)."""
    if sig is None:
        return []
    methods = sig.methods or ({"predict": sig.outputs} if sig.outputs is not None else {})
    return [(f"outputs ({name})", _schema_text(schema)) for name, schema in methods.items()]


def _storage(v: ModelVersionInfo) -> str:
    if v.flavor == "pyfunc" or v.describe.get("storage") == "pickle":
        return "pickle (loading it runs code from the file)"
    if v.flavor_meta.get("untrusted_types"):
        return f"{'skops' if v.flavor == 'sklearn' else v.flavor}, with types loading must trust"
    return f"{'skops' if v.flavor == 'sklearn' else v.flavor + ' format'} (no pickle)"


@model_app.command("versions")
def versions(
    ctx: typer.Context,
    name: ModelName,
    workspace: Workspace = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """The versions of a model you may read."""
    rows = client_of(ctx).model_versions(
        name, workspace=workspace, page_token=page_token, limit=limit
    )
    print_rows(
        rows,
        f"{name} ({len(rows)} versions)",
        ["version", "flavor", "env", "aliases", "run", "digest", "created"],
        lambda v: (
            v.version,
            v.flavor,
            v.environment,
            _aliases(v.aliases),
            (v.run_id or "-")[:12],
            v.digest[:12],
            v.created_at,
        ),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@alias_app.command("set")
def alias_set(
    ctx: typer.Context,
    name: ModelName,
    alias: Annotated[str, typer.Argument(help="Alias, e.g. champion.")],
    version: Annotated[int, typer.Argument(help="Version number.")],
    env: Env = None,
    workspace: Workspace = None,
    reason: Annotated[str, typer.Option(help="Why, kept in the alias history.")] = "",
    json: Json = False,
) -> None:
    """Point an alias of an environment at a version."""
    v = client_of(ctx).set_alias(
        name, alias, version, environment=env, workspace=workspace, reason=reason
    )
    if json:
        emit_json(v)
        return
    console.print(f"{name}@{alias} → v{v.version} ({_aliases(v.aliases)})")


@alias_app.command("delete")
def alias_delete(
    ctx: typer.Context,
    name: ModelName,
    alias: Annotated[str, typer.Argument(help="Alias to remove.")],
    env: Env = None,
    workspace: Workspace = None,
    reason: Annotated[str, typer.Option(help="Why, kept in the alias history.")] = "",
    json: Json = False,
) -> None:
    """Remove an alias from an environment."""
    e = client_of(ctx).delete_alias(
        name, alias, environment=env, workspace=workspace, reason=reason
    )
    if json:
        emit_json(e)
        return
    console.print(f"removed {name}@{alias} from {e.environment} (was v{fmt(e.from_version)})")


@alias_app.command("history")
def alias_history(
    ctx: typer.Context,
    name: ModelName,
    alias: Annotated[str | None, typer.Option(help="Only this alias.")] = None,
    env: FilterEnv = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Where each alias pointed then: 2026-12-01T10:00 (UTC) or 3d (ago)."
        ),
    ] = None,
    workspace: Workspace = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Who moved which alias to which version, when, and why (--at: the state at a time)."""
    from modelwright.cli._times import parse_time

    events = client_of(ctx).alias_history(
        name,
        alias=alias,
        environment=env,
        workspace=workspace,
        at=parse_time(at, "--at"),
        page_token=page_token,
        limit=limit,
    )
    print_rows(
        events,
        f"Aliases of {name} at {at} (UTC)" if at else f"Alias history of {name}",
        ["at", "env", "alias", "from", "to", "by", "reason"],
        lambda e: (e.at, e.environment, e.alias, e.from_version, e.to_version, e.by, e.reason),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@model_app.command("card")
def card(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Argument(help="models:/<name>/<version> or models:/<env>/<name>@<alias>.")
    ],
    format: Annotated[str, typer.Option("--format", help="md or html.")] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write it to this file instead.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Edit a field first: intended_use=..., limitations=..., owners=alice,bob "
            "(repeatable).",
        ),
    ] = None,
    workspace: Workspace = None,
    json: Json = False,
) -> None:
    """A version's model card: description, intended use, limitations, owners, training data,
    metrics, the gates it passed with their evidence, approvals and alias history."""
    from modelwright.promotions.card import render_html, render_markdown
    from modelwright.promotions.models import CARD_FIELDS

    if format not in ("md", "html"):
        raise typer.BadParameter("md or html", param_hint="--format")
    client = client_of(ctx)
    if set_:
        tags: dict[str, str | None] = {}
        for item in set_:
            field, sep, value = item.partition("=")
            if not sep or field not in CARD_FIELDS:
                raise typer.BadParameter(
                    f"{item!r}: expected FIELD=VALUE with FIELD one of {', '.join(CARD_FIELDS)}",
                    param_hint="--set",
                )
            tags[f"card.{field}"] = value or None
        version = client.get_model_version(model, workspace=workspace)
        client.update_model(version.name, version=version.version, tags=tags, workspace=workspace)
    found = client.model_card(model, workspace=workspace)
    if json:
        emit_json(found)
        return
    text = render_html(found) if format == "html" else render_markdown(found)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"wrote {out}")


@model_app.command("leaderboard")
def leaderboard(
    ctx: typer.Context,
    name: ModelName,
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            "-m",
            help="Metric to rank by: as logged, any metric the runs logged; with --dataset, "
            + metric_help(),
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option(help="Re-evaluate every version on this dataset version (name@vN)."),
    ] = None,
    label: Annotated[
        str | None, typer.Option(help="Label column of --dataset (default: inferred).")
    ] = None,
    lower_is_better: Annotated[
        bool | None,
        typer.Option("--lower-is-better/--higher-is-better", help="Default: from the metric name."),
    ] = None,
    set_challenger: Annotated[
        bool, typer.Option("--set-challenger", help="Point the challenger alias at the winner.")
    ] = False,
    env: Env = None,
    workspace: Workspace = None,
    submit: Submit = False,
    detach: Detach = False,
    json: Json = False,
) -> None:
    """Rank versions by a logged metric, or by the metric re-computed on one holdout dataset."""
    client = client_of(ctx)
    higher_is_better = None if lower_is_better is None else not lower_is_better
    if submit:
        spec = {
            "kind": "leaderboard.run",
            "name": name,
            "metric": metric,
            "dataset": dataset,
            "label": label,
            "higher_is_better": higher_is_better,
            "set_challenger": set_challenger,
        }
        submit_job(client, spec, workspace=workspace, env=env, detach=detach, json=json)
        return
    entries = client.leaderboard(
        name,
        metric,
        dataset=dataset,
        label=label,
        environment=env,
        workspace=workspace,
        higher_is_better=higher_is_better,
        set_challenger=set_challenger,
    )
    if json:
        emit_json(entries)
        return
    source = f"on {dataset}" if dataset else "as logged"
    ranked = [e for e in entries if e.rank is not None]
    table(
        f"{name} by {metric} ({source})",
        ["rank", "version", metric, "aliases", "run"],
        [
            (e.rank, e.version, f"{e.value:.6g}", e.aliases, (e.run_id or "-")[:12])
            for e in ranked
            if e.value is not None
        ],
    )
    for e in entries:
        if e.rank is None:
            console.print(f"v{e.version} not ranked: {e.note or 'no value'}")
    if set_challenger and ranked:
        console.print(f"challenger → v{ranked[0].version}")


@model_app.command("package")
def package(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="models:/NAME/VERSION or models:/NAME@ALIAS")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write (new or empty).")],
    kubernetes: Annotated[
        bool, typer.Option("--kubernetes", help="Also write k8s manifests.")
    ] = False,
    image: Annotated[str | None, typer.Option(help="Image name for the manifests.")] = None,
    port: Annotated[int, typer.Option(help="Port the server listens on.")] = 8080,
    modelwright: Annotated[
        str | None,
        typer.Option(
            "--modelwright-requirement",
            help="Requirement that installs modelwright in the image (a version your index "
            "serves); by default the package carries a wheel of this modelwright.",
        ),
    ] = None,
    env: Env = None,
    workspace: Workspace = None,
    json: Json = False,
) -> None:
    """Write a self-contained directory that serves the model (with a Dockerfile)."""
    path = client_of(ctx).package_model(
        uri,
        out,
        kubernetes=kubernetes,
        image=image,
        port=port,
        modelwright_requirement=modelwright,
        workspace=workspace,
        environment=env,
    )
    files = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    if json:
        emit_json({"model": uri, "out": str(path), "files": files})
        return
    console.print(f"packaged {uri} into {path}: {', '.join(files)}")
