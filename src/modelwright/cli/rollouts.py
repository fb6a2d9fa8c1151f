"""``rollout start/status/list/pause/resume/abort``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import (
    AtMost,
    Env,
    FilterEnv,
    FilterWorkspace,
    Json,
    PageToken,
    Workspace,
)
from modelwright.cli._output import console, fmt, print_one, print_rows, table
from modelwright.client import Client
from modelwright.rollouts import models as rm

rollout_app = typer.Typer(
    help="Rollouts: a new deployment brought to all of an endpoint's traffic in steps, "
    "rolled back when an alarm fires.",
    no_args_is_help=True,
)

RolloutId = Annotated[int, typer.Argument(help="Rollout id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(rollout_app, name="rollout")


def seconds(text: str) -> float:
    from modelwright.cli._times import parse_duration

    return parse_duration(text, "--bake").total_seconds()


def parse_steps(steps: str | None) -> list[int] | None:
    try:
        return [int(s) for s in steps.split(",")] if steps else None
    except ValueError:
        raise typer.BadParameter(
            "a comma-separated list of percents", param_hint="--steps"
        ) from None


Steps = Annotated[
    str | None, typer.Option(help="Percent on the new deployment per step: 10,50,100.")
]
Bake = Annotated[str, typer.Option(help="How long each step runs before it is judged.")]
Alarms = Annotated[
    list[str] | None,
    typer.Option(
        "--alarm",
        help="Rolls back when it holds (repeatable): 'error_rate > 0.01', 'p99_ms > 250'; "
        "signals: " + ", ".join(rm.SIGNALS) + ".",
    ),
]
MinRequests = Annotated[
    int, typer.Option(help="Fewer requests in a step's window: no data, paused.")
]


def _print(r: rm.RolloutInfo) -> None:
    console.print(
        f"[bold]Rollout {r.id}[/bold] {r.workspace}/{r.environment} endpoint {r.endpoint}: "
        f"{r.deployment} ({r.model}) replacing {r.stable}, {r.strategy} "
        f"{'→'.join(map(str, r.steps))}%: [bold]{r.status}[/bold] at {r.weight}%"
    )
    console.print(f"alarms: {', '.join(r.alarms)}; bake {r.bake_seconds:g}s; by {r.started_by}")
    if r.outcome:
        console.print(f"outcome: {r.outcome}", markup=False)
    table(
        "Steps",
        ["weight", "window (UTC)", "requests", "error rate", "p99 ms", "verdict"],
        [
            (
                f"{h.get('weight', r.weight)}%",
                f"{fmt(h['since'])} → {fmt(h['until'])}" if "since" in h else fmt(h.get("at")),
                h.get("requests", "-"),
                "-" if h.get("error_rate") is None else f"{h['error_rate']:.4f}",
                "-" if h.get("p99_ms") is None else f"{h['p99_ms']:.1f}",
                h["verdict"]
                + (f": {'; '.join(h['fired'])}" if h.get("fired") else "")
                + (f": {h['routers']}" if h.get("routers") else ""),
            )
            for h in r.history
        ],
    )


@rollout_app.command("start")
def start(
    ctx: typer.Context,
    endpoint: Annotated[str, typer.Argument(help="The endpoint.")],
    model: Annotated[
        str, typer.Argument(help="models:/<name>/<version> or models:/<name>@<alias>.")
    ],
    deployment: Annotated[str, typer.Option("--deployment", "-d", help="The new deployment.")],
    strategy: Annotated[
        str, typer.Option(help="all-at-once, canary (default steps 10,100) or linear.")
    ] = "canary",
    steps: Steps = None,
    bake: Bake = "60s",
    alarms: Alarms = None,
    min_requests: MinRequests = 1,
    workers: Annotated[int, typer.Option(help="Worker processes of the new deployment.")] = 1,
    reason: Annotated[str, typer.Option(help="Why, for the audit.")] = "",
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Roll a model version out on an endpoint as a new deployment (run by the workers)."""
    plan = parse_steps(steps)
    r = client_of(ctx).start_rollout(
        endpoint,
        deployment,
        model,
        strategy=strategy,  # type: ignore[arg-type]  # checked by the request model
        steps=plan,
        bake_seconds=seconds(bake),
        alarms=alarms,
        min_requests=min_requests,
        config={"workers": workers},
        reason=reason,
        workspace=workspace,
        environment=env,
    )
    print_one(r, _print, json=json)
    if not json:
        console.print(f"follow it with: modelwright rollout status {r.id}")


@rollout_app.command("status")
def status(ctx: typer.Context, rollout_id: RolloutId, json: Json = False) -> None:
    """A rollout with each step's window, figures and verdict (exit 1 when it ended with the
    live routing differing from the record)."""
    r = client_of(ctx).get_rollout(rollout_id)
    print_one(r, _print, json=json)
    if r.status == "routing_mismatch":
        raise typer.Exit(1)


@rollout_app.command("list")
def list_rollouts(
    ctx: typer.Context,
    endpoint: Annotated[str | None, typer.Option(help="Only this endpoint.")] = None,
    workspace: FilterWorkspace = None,
    env: FilterEnv = None,
    limit: AtMost = 100,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Rollouts of endpoints you may see, newest first."""
    found = client_of(ctx).list_rollouts(
        workspace=workspace, environment=env, endpoint=endpoint, limit=limit, page_token=page_token
    )
    print_rows(
        found,
        f"Rollouts ({len(found)})",
        ["id", "endpoint", "deployment", "model", "status", "weight", "started by", "outcome"],
        lambda r: (
            r.id,
            f"{r.workspace}/{r.environment}/{r.endpoint}",
            r.deployment,
            r.model,
            r.status,
            f"{r.weight}%",
            r.started_by,
            r.outcome,
        ),
        json=json,
        paged=page_token is not None,
    )


# Commands that make one call on a rollout and show it: each verb's client method and help.
_ACTIONS: dict[str, tuple[Callable[[Client, int], rm.RolloutInfo], str]] = {
    "pause": (Client.pause_rollout, "Hold the traffic where it is."),
    "resume": (
        Client.resume_rollout,
        "Continue a paused rollout; its current step is judged afresh.",
    ),
    "abort": (
        Client.abort_rollout,
        "All traffic back on the stable deployment at once; the new one is retired.",
    ),
}


def _act(ctx: typer.Context, rollout_id: RolloutId, json: Json = False) -> None:
    call, _ = _ACTIONS[ctx.command.name or ""]
    print_one(call(client_of(ctx), rollout_id), _print, json=json)


for _verb, (_, _help) in _ACTIONS.items():
    rollout_app.command(_verb, help=_help)(_act)
