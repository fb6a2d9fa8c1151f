"""``endpoint create/deploy/traffic/shadow/undeploy/delete/invoke/list/show``."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Annotated

import typer

from modelwright.cli._app import State, client_of, err_console
from modelwright.cli._options import Env, Json, Limit, PageToken, Workspace
from modelwright.cli._output import console, emit_json, hint_next_page, print_rows, table
from modelwright.core.bearer import authorization
from modelwright.endpoints import models as em
from modelwright.errors import InvalidInput, ServiceUnavailable

endpoint_app = typer.Typer(
    help="Real-time endpoints: deployments, traffic split, shadow traffic.", no_args_is_help=True
)

EndpointName = Annotated[str, typer.Argument(help="Endpoint name.")]


def register(app: typer.Typer) -> None:
    from modelwright.cli.endpoint_stats import stats

    endpoint_app.command("stats")(stats)
    app.add_typer(endpoint_app, name="endpoint")


def _show(ep: em.EndpointInfo, json: bool) -> None:
    if json:
        emit_json(ep)
        return
    shadow = f", shadow {ep.shadow} ({ep.shadow_percent}%)" if ep.shadow else ""
    table(
        f"Endpoint {ep.workspace}/{ep.environment}/{ep.name} (generation {ep.generation}{shadow})",
        ["deployment", "model", "weight", "shadow", "workers", "batch", "capture"],
        [
            (
                d.name,
                d.uri,
                f"{d.weight}%",
                "yes" if d.shadow else "",
                d.config.workers,
                d.config.max_batch_size,
                d.config.capture_rate,
            )
            for d in ep.deployments
        ],
    )


@endpoint_app.command("create")
def create(
    ctx: typer.Context,
    name: EndpointName,
    workspace: Workspace = None,
    env: Env = None,
    description: Annotated[str, typer.Option(help="What the endpoint is for.")] = "",
    json: Json = False,
) -> None:
    """Create an endpoint in an environment."""
    ep = client_of(ctx).create_endpoint(
        name, workspace=workspace, environment=env, description=description
    )
    _show(ep, json)


@endpoint_app.command("deploy")
def deploy(
    ctx: typer.Context,
    name: EndpointName,
    deployment: Annotated[str, typer.Argument(help="Deployment name (blue, green, ...).")],
    model: Annotated[
        str, typer.Argument(help="models:/NAME/VERSION, or models:/NAME@ALIAS (pinned now).")
    ],
    weight: Annotated[
        int | None, typer.Option(help="Traffic percent (default: 100 if first, else 0).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    max_batch_size: Annotated[
        int, typer.Option(help="Merge up to this many requests per predict call (1: off).")
    ] = 1,
    max_latency_ms: Annotated[
        float, typer.Option(help="Longest wait for a batch to fill, in milliseconds.")
    ] = 5.0,
    max_queue: Annotated[int, typer.Option(help="Queued requests before answering 503.")] = 64,
    capture_rate: Annotated[
        float, typer.Option(help="Share of requests captured to the datastore (0..1).")
    ] = 0.0,
    method: Annotated[
        str,
        typer.Option(
            help="Prediction method answered: predict, predict_proba or decision_function "
            '(a request may ask for another with {"params": {"method": ...}}).'
        ),
    ] = "predict",
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Deploy a model version available in the environment (or update a deployment)."""
    from modelwright.registry.predict import check_method
    from modelwright.registry.uri import parse_model_uri

    check_method(method)

    ref = parse_model_uri(model)
    client = client_of(ctx)
    version = ref.version
    if version is None:
        # An alias is resolved now: the deployment pins that version (moving the alias later
        # does not redeploy; deploy again to follow it).
        version = client.get_model_version(model, workspace=workspace, environment=env).version
    config = em.ServingConfig(
        workers=workers,
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        max_queue=max_queue,
        capture_rate=capture_rate,
        method=method,  # checked above
    )
    ep = client.deploy(
        name,
        deployment,
        ref.name,
        version,
        weight=weight,
        config=config,
        workspace=workspace,
        environment=env,
    )
    _show(ep, json)


@endpoint_app.command("traffic")
def traffic(
    ctx: typer.Context,
    name: EndpointName,
    weights: Annotated[list[str], typer.Argument(help="DEPLOYMENT=PERCENT ..., summing to 100.")],
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Split traffic across deployments."""
    parsed: dict[str, int] = {}
    for item in weights:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise InvalidInput(
                f"weights: expected DEPLOYMENT=PERCENT, got {item!r}", details={"field": "weights"}
            )
        parsed[key.strip()] = int(value)
    _show(client_of(ctx).set_traffic(name, parsed, workspace=workspace, environment=env), json)


@endpoint_app.command("shadow")
def shadow(
    ctx: typer.Context,
    name: EndpointName,
    deployment: Annotated[
        str | None, typer.Argument(help="Deployment to mirror to; omit with --off.")
    ] = None,
    percent: Annotated[int, typer.Option(help="Share of requests mirrored.")] = 100,
    off: Annotated[bool, typer.Option("--off", help="Remove the shadow.")] = False,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Mirror a share of requests to a deployment whose answers are discarded (but captured)."""
    if deployment is None and not off:
        raise InvalidInput(
            "deployment: name the shadow deployment, or pass --off", details={"field": "deployment"}
        )
    ep = client_of(ctx).set_shadow(
        name, None if off else deployment, percent, workspace=workspace, environment=env
    )
    _show(ep, json)


@endpoint_app.command("undeploy")
def undeploy(
    ctx: typer.Context,
    name: EndpointName,
    deployment: Annotated[str, typer.Argument(help="Deployment to remove.")],
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Remove a deployment that takes no traffic."""
    _show(client_of(ctx).undeploy(name, deployment, workspace=workspace, environment=env), json)


@endpoint_app.command("delete")
def delete(
    ctx: typer.Context,
    name: EndpointName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Delete an endpoint and its deployments."""
    ep = client_of(ctx).delete_endpoint(name, workspace=workspace, environment=env)
    if json:
        emit_json(ep)
        return
    console.print(f"deleted endpoint {ep.workspace}/{ep.environment}/{ep.name}")


@endpoint_app.command("list")
def list_endpoints(
    ctx: typer.Context,
    workspace: Workspace = None,
    env: Env = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Endpoints with their deployments and weights."""
    eps = client_of(ctx).list_endpoints(
        workspace=workspace, environment=env, page_token=page_token, limit=limit
    )
    print_rows(
        eps,
        f"Endpoints ({len(eps)})",
        ["environment", "name", "deployments", "shadow", "generation"],
        lambda e: (
            e.environment,
            e.name,
            ", ".join(f"{d.name}={d.uri} {d.weight}%" for d in e.deployments if not d.shadow),
            f"{e.shadow} {e.shadow_percent}%" if e.shadow else "",
            e.generation,
        ),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@endpoint_app.command("show")
def show(
    ctx: typer.Context,
    name: EndpointName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """One endpoint: deployments, weights, shadow, serving config."""
    _show(client_of(ctx).get_endpoint(name, workspace=workspace, environment=env), json)


@endpoint_app.command("history")
def history(
    ctx: typer.Context,
    name: EndpointName,
    at: Annotated[
        str | None,
        typer.Option("--at", help="What served then: 2026-12-01T10:00 (UTC) or an age such as 3d."),
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest changes to show.")] = 50,
    page_token: PageToken = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Every change of an endpoint's routing (--at: which version served which share then)."""
    from modelwright.cli._times import parse_time
    from modelwright.registry.uri import model_uri

    when = parse_time(at, "--at")
    changes = client_of(ctx).endpoint_history(
        name, at=when, limit=limit, workspace=workspace, environment=env, page_token=page_token
    )
    if when is None or json:
        print_rows(
            changes,
            f"History of endpoint {name}",
            ["at", "change", "by", "routing"],
            lambda c: (
                f"{c.at:%Y-%m-%d %H:%M:%S}",
                c.change,
                c.by,
                ", ".join(f"{d} v{s.version} {s.weight}%" for d, s in c.deployments.items())
                or ("-" if c.exists else "deleted"),
            ),
            json=json,
            paged=page_token is not None,
        )
        return
    hint_next_page(changes)
    if not changes or not changes[0].exists:
        console.print(f"endpoint {name} did not exist at {at} (UTC)")
        return
    c = changes[0]
    table(
        f"Endpoint {name} at {at} (UTC): as left by {c.change} at {c.at:%Y-%m-%d %H:%M:%S} "
        f"by {c.by}",
        ["deployment", "model", "share", "shadow"],
        [
            (
                d,
                model_uri(s.model, s.version),
                f"{s.weight}%",
                f"{c.shadow_percent}%" if d == c.shadow else "",
            )
            for d, s in c.deployments.items()
        ],
    )


@endpoint_app.command("routing")
def routing(
    ctx: typer.Context,
    name: EndpointName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """What each live router routes by, beside the endpoint's record (exit 1 if they differ)."""
    live = client_of(ctx).endpoint_routing(name, workspace=workspace, environment=env)
    if json:
        emit_json(live)
    else:
        shares = ", ".join(f"{d} {w}%" for d, w in live.weights.items()) or "nothing"
        table(
            f"Endpoint {name}: recorded generation {live.generation}, {shares}: {live.state}",
            ["router", "reported", "generation", "serving", "problem"],
            [
                (
                    r.router,
                    f"{r.reported_at:%H:%M:%S}",
                    r.generation,
                    ", ".join(f"{d} {w}%" for d, w in r.serving.items()) or "-",
                    r.problem or "ok",
                )
                for r in live.routers
            ],
        )
    if live.state == "differs":
        raise typer.Exit(1)


@endpoint_app.command("invoke")
def invoke(
    ctx: typer.Context,
    name: EndpointName,
    data: Annotated[
        str, typer.Option("--data", "-d", help="JSON body, or @FILE to read it from a file.")
    ],
    url: Annotated[
        str, typer.Option(help="Base URL of the router started by `modelwright serve`.")
    ] = "http://127.0.0.1:8000",
    deployment: Annotated[
        str | None, typer.Option(help="Send to this deployment, bypassing the weights.")
    ] = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print the answer as plain JSON (no colours, no wrapped lines)."
        ),
    ] = False,
) -> None:
    """Send one request to an endpoint through the running router; print the answer."""
    import httpx

    state: State = ctx.obj
    body = Path(data[1:]).read_bytes() if data.startswith("@") else data.encode()
    ws = state.client().resolve_workspace(workspace)
    environment = state.client().resolve_environment(ws, env)
    headers = {"content-type": "application/json", **authorization(state.token)}
    if deployment:
        headers["x-modelwright-deployment"] = deployment
    target = f"{url.rstrip('/')}/endpoints/{ws}/{environment}/{name}/invocations"
    try:
        r = httpx.post(target, content=body, headers=headers, timeout=60)
    except httpx.TransportError as exc:
        raise ServiceUnavailable(
            f"--url: no router answered at {url} ({type(exc).__name__}); "
            f"start one with `modelwright serve --env {environment}`"
        ) from None
    try:
        payload = r.json()
    except ValueError:
        payload = {"error": {"message": r.text}}
    if r.status_code >= 400:
        # MLflow's shape on /invocations ({"error_code", "message"}), else the platform's.
        message = payload.get("error", payload) if isinstance(payload, dict) else payload
        text = message.get("message", str(message)) if isinstance(message, dict) else str(message)
        raise InvalidInput(f"endpoint answered {r.status_code}: {text}")
    if json:
        emit_json(payload)
    else:
        console.print_json(jsonlib.dumps(payload))
    if answered := r.headers.get("x-modelwright-deployment"):
        err_console.print(f"answered by deployment '{answered}'")
