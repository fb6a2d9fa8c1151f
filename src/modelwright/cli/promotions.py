"""``promote``, ``promotion list/show``, ``approve`` and ``reject``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import AtMost, FilterWorkspace, Json, PageToken, Workspace
from modelwright.cli._output import console, fmt, print_one, print_rows, table
from modelwright.cli.rollouts import Alarms, Bake, MinRequests, Steps, parse_steps, seconds
from modelwright.errors import ModelwrightError
from modelwright.promotions import models as pm

promotion_app = typer.Typer(
    help="Promotions: a model version entering the next environment through its gates.",
    no_args_is_help=True,
)

PromotionId = Annotated[int, typer.Argument(help="Promotion id.")]
Detach = Annotated[
    bool, typer.Option("--detach", help="Return at once; the platform's workers carry on.")
]
_STYLE = {"passed": "green", "failed": "red", "waiting": "yellow", "pending": "dim"}


def register(app: typer.Typer) -> None:
    app.add_typer(promotion_app, name="promotion")
    app.command("promote")(promote)
    app.command("approve")(approve)
    app.command("reject")(reject)


class PromotionFailed(ModelwrightError):
    """The promotion failed or was rejected (its gates were printed)."""

    code = "promotion_failed"
    status = 409


def _print(p: pm.PromotionInfo) -> None:
    alias = f" as @{p.alias}" if p.alias else ""
    into = p.target if p.target_workspace == p.workspace else f"{p.target_workspace}/{p.target}"
    console.print(
        f"[bold]Promotion {p.id}[/bold] {p.uri}: {p.source} → {into}{alias}: "
        f"[bold]{p.status}[/bold]"
    )
    console.print(f"requested by {p.requested_by} at {fmt(p.created_at)}: {p.reason or '-'}")
    if p.outcome:
        console.print(f"outcome: {p.outcome}", markup=False)
    table(
        "Gates",
        ["gate", "status", "result"],
        [
            (g.kind, f"[{_STYLE[g.status]}]{g.status}[/{_STYLE[g.status]}]", g.summary)
            for g in p.gates
        ],
    )
    if p.decisions:
        table(
            "Decisions",
            ["by", "decision", "comment", "at (UTC)"],
            [(d.principal, d.decision, d.comment, d.at) for d in p.decisions],
        )


def _done(p: pm.PromotionInfo, json: bool) -> None:
    print_one(p, _print, json=json)
    if p.status in ("failed", "rejected", "cancelled"):
        raise PromotionFailed(f"promotion {p.id} {p.status}: {p.outcome}")


def promote(
    ctx: typer.Context,
    model: Annotated[
        str, typer.Argument(help="models:/<name>/<version> or models:/<env>/<name>@<alias>.")
    ],
    to: Annotated[str, typer.Option("--to", help="The environment to enter.")],
    alias: Annotated[
        str | None, typer.Option("--alias", help="Moved to the version once promoted.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--from", help="Where it comes from (default: the environment before --to)."),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why, for the approvers and the audit.")] = "",
    to_workspace: Annotated[
        str | None,
        typer.Option(
            "--to-workspace",
            help="Enter --to of this workspace (one workspace per environment); its policy must "
            "accept the source (allow_from).",
        ),
    ] = None,
    rollout: Annotated[
        str | None,
        typer.Option(
            "--rollout",
            help="Last gate: roll out on --endpoint with this strategy (all-at-once, canary, "
            "linear); the promotion completes only if the rollout does.",
        ),
    ] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="The target's endpoint (with --rollout).")
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option("--deployment", help="The new deployment (default <model>-v<version>)."),
    ] = None,
    steps: Steps = None,
    bake: Bake = "60s",
    alarms: Alarms = None,
    min_requests: MinRequests = 1,
    workspace: Workspace = None,
    detach: Detach = False,
    json: Json = False,
) -> None:
    """Request that a model version enter an environment through the gates of its policy."""
    plan = None
    if rollout is not None:
        if endpoint is None:
            raise typer.BadParameter("the endpoint to roll out on", param_hint="--endpoint")
        plan = {
            "endpoint": endpoint,
            "deployment": deployment,
            "strategy": rollout,
            "steps": parse_steps(steps),
            "bake_seconds": seconds(bake),
            "min_requests": min_requests,
            **({"alarms": alarms} if alarms else {}),
        }
    p = client_of(ctx).promote(
        model,
        to,
        alias=alias,
        source=source,
        reason=reason,
        workspace=workspace,
        to_workspace=to_workspace,
        rollout=plan,
        wait=not detach,
    )
    _done(p, json)
    if p.status == "awaiting_approval" and not json:
        console.print(f"waiting for approval: modelwright approve {p.id} --comment ...")
    if p.status == "rolling_out" and not json:
        console.print(f"rolling out: modelwright rollout status {p.rollout_id}")


@promotion_app.command("list")
def list_promotions(
    ctx: typer.Context,
    workspace: FilterWorkspace = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="checking, awaiting_approval, rolling_out, promoted, rejected, failed, cancelled."
        ),
    ] = None,
    limit: AtMost = 100,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Promotions you may read, newest first (the approval queue: --status awaiting_approval)."""
    found = client_of(ctx).list_promotions(
        workspace=workspace,
        model=model,
        status=status,  # type: ignore[arg-type]  # checked by the request model
        limit=limit,
        page_token=page_token,
    )
    print_rows(
        found,
        f"Promotions ({len(found)})",
        ["id", "model", "from → to", "alias", "status", "requested by", "created (UTC)", "gates"],
        lambda p: (
            p.id,
            p.uri,
            f"{p.source} → {p.target}",
            p.alias or "-",
            p.status,
            p.requested_by,
            p.created_at,
            " ".join(f"{g.kind}:{g.status}" for g in p.gates) or "-",
        ),
        json=json,
        paged=page_token is not None,
    )


@promotion_app.command("show")
def show(ctx: typer.Context, promotion_id: PromotionId, json: Json = False) -> None:
    """A promotion with each gate's result and evidence, and the decisions."""
    print_one(client_of(ctx).get_promotion(promotion_id), _print, json=json)


def approve(
    ctx: typer.Context,
    promotion_id: PromotionId,
    comment: Annotated[str, typer.Option(help="Recorded with the approval.")] = "",
    detach: Detach = False,
    json: Json = False,
) -> None:
    """Approve a promotion (not one you requested, nor of a model you produced)."""
    _done(client_of(ctx).approve_promotion(promotion_id, comment, wait=not detach), json)


def reject(
    ctx: typer.Context,
    promotion_id: PromotionId,
    comment: Annotated[str, typer.Option(help="Why (required).")],
    json: Json = False,
) -> None:
    """Reject a promotion: it ends, and nothing else changes."""
    print_one(client_of(ctx).reject_promotion(promotion_id, comment), _print, json=json)
