"""Model cards: one version's description, intended use, limitations and owners (version tags
``card.*``), its training data, metrics, gates passed with their evidence, approvals, and
alias history, gathered from the records that hold them; and their Markdown and HTML forms.

Reading a card needs what reading the version needs; datasets, promotions and aliases of
environments the caller may not read are left out, as everywhere else.
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.pages import every_item
from modelwright.promotions import models as m
from modelwright.promotions.service import list_promotions
from modelwright.registry import models as rm
from modelwright.registry.service import alias_history, get_version
from modelwright.registry.uri import model_uri
from modelwright.store import schema

__all__ = ["model_card", "render_html", "render_markdown"]


def model_card(ctx: Context, req: m.CardRequest) -> m.ModelCard:
    info = get_version(
        ctx, rm.VersionRef(workspace=req.workspace, name=req.name, version=req.version)
    )
    uri = model_uri(info.name, info.version)
    params: dict[str, str] = {}
    metrics: dict[str, float | None] = {}
    datasets: list[dict[str, Any]] = []
    if info.run_id is not None:
        params = {
            p.key: p.value
            for p in ctx.session.scalars(
                select(schema.RunParam).where(schema.RunParam.run_id == info.run_id)
            )
        }
        metrics = {
            lm.key: None if lm.is_nan else lm.value
            for lm in ctx.session.scalars(
                select(schema.LatestMetric).where(schema.LatestMetric.run_id == info.run_id)
            )
        }
        datasets = _training_data(ctx, info.run_id)
    history = [
        e.model_dump(mode="json")
        for e in every_item(
            alias_history, ctx, rm.AliasHistoryRequest(workspace=req.workspace, name=req.name)
        )
        if info.version in (e.to_version, e.from_version)
    ]
    promotions = [
        p
        for p in list_promotions(
            ctx, m.ListPromotions(workspace=req.workspace, model=req.name, limit=10_000)
        ).items
        if p.version == info.version
    ]
    tags = info.tags
    return m.ModelCard(
        model=uri,
        workspace=info.workspace,
        description=info.description,
        intended_use=tags.get("card.intended_use", ""),
        limitations=tags.get("card.limitations", ""),
        owners=[o.strip() for o in tags.get("card.owners", "").split(",") if o.strip()],
        flavor=info.flavor,
        signature=None if info.signature is None else info.signature.model_dump(mode="json"),
        requirements=info.requirements,
        registered_in=info.environment,
        registered_by=info.created_by,
        registered_at=info.created_at,
        available_in=info.available_in,
        aliases=info.aliases,
        run_id=info.run_id,
        params=params,
        metrics=metrics,
        training_datasets=datasets,
        promotions=sorted(promotions, key=lambda p: p.id),
        alias_history=history,
    )


def _training_data(ctx: Context, run_id: str) -> list[dict[str, Any]]:
    E = schema.LineageEdge
    out = []
    for ident in ctx.session.scalars(
        select(E.source_id).where(
            E.target_kind == "run",
            E.target_id == run_id,
            E.source_kind == "dataset_version",
            E.relation == "input",
        )
    ):
        dv = ctx.session.get(schema.DatasetVersion, int(ident))
        if dv is None:
            continue
        env = dv.dataset.environment
        if not ctx.allowed(Action.DATA_READ, env.workspace.name, env.name):
            continue
        profile = dv.profile or {}
        out.append(
            {
                "dataset": f"{env.name}/{dv.dataset.name}@v{dv.version}",
                "digest": dv.digest,
                "rows": profile.get("rows"),
                "columns": [c.get("name") for c in dv.schema_ or []],
            }
        )
    return out


# -- rendering --------------------------------------------------------------------------------
def _sections(card: m.ModelCard) -> list[tuple[str, list[str]]]:
    """The card as titled sections of plain lines, shared by both renderings."""
    gates = [
        f"promotion {p.id} {p.source} → {p.target}: {p.status}"
        + (f" ({p.outcome})" if p.outcome else "")
        for p in card.promotions
    ]
    for p in card.promotions:
        gates += [f"  {g.kind}: {g.status}, {g.summary}" for g in p.gates]
        gates += [
            f"  {d.decision} by {d.principal} at {d.at:%Y-%m-%d %H:%M} UTC: {d.comment or '-'}"
            for d in p.decisions
        ]
    inputs = (card.signature or {}).get("inputs") or {}
    columns = inputs.get("columns", []) if isinstance(inputs, dict) else []
    return [
        ("Description", [card.description or "(none)"]),
        ("Intended use", [card.intended_use or "(not stated: set the tag card.intended_use)"]),
        ("Limitations", [card.limitations or "(not stated: set the tag card.limitations)"]),
        ("Owners", [", ".join(card.owners) or "(not stated: set the tag card.owners)"]),
        (
            "Provenance",
            [
                f"registered in {card.registered_in} by {card.registered_by} at "
                f"{card.registered_at:%Y-%m-%d %H:%M} UTC from run {card.run_id or '-'}",
                f"available in: {', '.join(card.available_in)}",
                "aliases: "
                + (
                    ", ".join(f"{env}: {', '.join(a)}" for env, a in card.aliases.items()) or "none"
                ),
            ],
        ),
        (
            "Training data",
            [
                f"{d['dataset']} ({d['rows'] if d['rows'] is not None else '?'} rows; "
                f"sha256 {d['digest'][:12]}; columns {', '.join(map(str, d['columns']))})"
                for d in card.training_datasets
            ]
            or ["(none recorded)"],
        ),
        (
            "Metrics",
            [f"{k}: {'NaN' if v is None else f'{v:g}'}" for k, v in sorted(card.metrics.items())]
            or ["(none logged)"],
        ),
        ("Parameters", [f"{k}: {v}" for k, v in sorted(card.params.items())] or ["(none)"]),
        (
            "Signature",
            [f"{c.get('name')}: {c.get('type')}" for c in columns] or ["(none recorded)"],
        ),
        ("Requirements", card.requirements or ["(none)"]),
        ("Promotions, gates and approvals", gates or ["(never promoted)"]),
        (
            "Alias history",
            [
                f"{e['at'][:16]} {e['environment']} @{e['alias']}: "
                f"{e['from_version'] or '-'} → {e['to_version'] or '-'} by {e['by']}"
                + (f" ({e['reason']})" if e["reason"] else "")
                for e in card.alias_history
            ]
            or ["(no alias ever pointed here)"],
        ),
    ]


def render_markdown(card: m.ModelCard) -> str:
    lines = [
        f"# Model card: {card.model}",
        "",
        f"Workspace `{card.workspace}`, flavor `{card.flavor}`.",
    ]
    for title, body in _sections(card):
        lines += ["", f"## {title}", ""]
        lines += [
            f"- {line}" if not line.startswith("  ") else f"  - {line.strip()}" for line in body
        ]
    return "\n".join(lines) + "\n"


def render_html(card: m.ModelCard) -> str:
    """A self-contained page (no external resources), every value escaped."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Model card: {html.escape(card.model)}</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.4}"
        "h2{border-bottom:1px solid #ccc}</style></head><body>",
        f"<h1>Model card: {html.escape(card.model)}</h1>",
        f"<p>Workspace <code>{html.escape(card.workspace)}</code>, flavor "
        f"<code>{html.escape(card.flavor)}</code>.</p>",
    ]
    for title, body in _sections(card):
        items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in body)
        parts.append(f"<h2>{html.escape(title)}</h2><ul>{items}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
