"""Registered models: the list, a model (versions, aliases, their history, the leaderboard),
a version (signature, requirements, lineage) and its model card."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import PlainTextResponse, Response

from modelwright.api import promotions as pr_ops
from modelwright.api import registry as rg_ops
from modelwright.api import tracking as tr_ops
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.promotions.card import render_html, render_markdown
from modelwright.ui.links import dataset_link
from modelwright.ui.render import page_headers
from modelwright.ui.views._base import Endpoint, Me, signed_in

__all__ = ["ROUTES"]

_PAGE = 25
# Versions shown under each model of the list; the model's page pages through the rest.
_VERSIONS_SHOWN = 10
# A long page of models shows the versions of its first ones only: a query a model.
_MODELS_WITH_VERSIONS = 100
# Metric columns of the versions table: the first ones by name, so a wide run stays readable.
_METRIC_COLUMNS = 8
# The card is a page of its own, shown in a sandboxed frame: its styles, nothing else.
_CARD_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"


def _limit(me: Me) -> str | int:
    """The page size asked for (the operation checks it and names the field if wrong)."""
    return me.request.query_params.get("limit") or _PAGE


@signed_in
async def models(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    view = {k: me.request.query_params.get(k, "") for k in ("limit", "page_token")}
    token = view["page_token"] or None
    found = await me.call(
        rg_ops.LIST_MODELS, workspace=workspace, limit=_limit(me), page_token=token
    )
    pages = await asyncio.gather(
        *(
            me.call(
                rg_ops.LIST_MODEL_VERSIONS,
                workspace=workspace,
                name=m.name,
                limit=_VERSIONS_SHOWN,
            )
            for m in found.items[:_MODELS_WITH_VERSIONS]
        )
    )
    return me.render(
        "models.html",
        workspace=workspace,
        models=found.items,
        versions={m.name: p for m, p in zip(found.items, pages, strict=False)},
        view=view,
        next_token=found.next_page_token,
    )


async def _run_metrics(me: Me, workspace: str, run_ids: list[str]) -> dict[str, Any]:
    """The runs of these ids that the caller may read, by id: one search for a page."""
    if not run_ids:
        return {}
    quoted = ", ".join(f"'{r}'" for r in sorted(set(run_ids)))  # ids are hex
    found = await me.call(
        tr_ops.SEARCH_RUNS,
        workspace=workspace,
        filter=f"run_id in ({quoted})",
        max_results=len(run_ids),
        include_children=True,
    )
    return {r.id: r for r in found.items}


@signed_in
async def model_page(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    name = me.request.path_params["name"]
    q = me.request.query_params
    view = {
        k: q.get(k, "") for k in ("limit", "page_token", "history_token", "metric", "environment")
    }
    model, versions, history = await asyncio.gather(
        me.call(rg_ops.GET_MODEL, workspace=workspace, name=name),
        me.call(
            rg_ops.LIST_MODEL_VERSIONS,
            workspace=workspace,
            name=name,
            limit=_limit(me),
            page_token=view["page_token"] or None,
        ),
        me.call(
            rg_ops.MODEL_ALIAS_HISTORY,
            workspace=workspace,
            name=name,
            limit=100,
            page_token=view["history_token"] or None,
        ),
    )
    runs = await _run_metrics(me, workspace, [v.run_id for v in versions.items if v.run_id])
    metric_keys = sorted({k for r in runs.values() for k in r.metrics})
    metric = view["metric"] or (metric_keys[0] if metric_keys else "")
    board: list[Any] = []
    board_error: ModelwrightError | None = None
    if metric:
        try:
            board = await me.call(
                rg_ops.MODEL_LEADERBOARD,
                workspace=workspace,
                name=name,
                metric=metric,
                environment=view["environment"] or None,
            )
        except InvalidInput as exc:
            board_error = exc
    return me.render(
        "model.html",
        workspace=workspace,
        model=model,
        versions=versions.items,
        next_token=versions.next_page_token,
        history=history.items,
        history_next=history.next_page_token,
        runs=runs,
        metric_columns=metric_keys[:_METRIC_COLUMNS],
        metric_keys=metric_keys,
        metric=metric,
        environments=sorted({e for v in model.version_list for e in v.available_in}),
        board=board,
        board_error=board_error,
        view=view,
        dataset_link=dataset_link,
    )


def _version_ref(me: Me) -> dict[str, str]:
    return me.path("workspace", "name", "version")


@signed_in
async def version_page(me: Me) -> Response:
    ref = _version_ref(me)
    version, card = await asyncio.gather(
        me.call(rg_ops.GET_MODEL_VERSION, **ref), me.call(pr_ops.MODEL_CARD, **ref)
    )
    return me.render(
        "model_version.html",
        workspace=ref["workspace"],
        v=version,
        card=card,
        dataset_link=dataset_link,
    )


@signed_in
async def card_html(me: Me) -> Response:
    card = await me.call(pr_ops.MODEL_CARD, **_version_ref(me))
    response = Response(render_html(card), media_type="text/html; charset=utf-8")
    page_headers(response, csp=_CARD_CSP)
    return response


@signed_in
async def card_markdown(me: Me) -> Response:
    card = await me.call(pr_ops.MODEL_CARD, **_version_ref(me))
    response = PlainTextResponse(render_markdown(card), media_type="text/markdown; charset=utf-8")
    page_headers(response)
    return response


_VERSION = "/w/{workspace}/models/{name}/versions/{version}"

ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/models", models, ["GET"]),
    ("/w/{workspace}/models/{name}", model_page, ["GET"]),
    (_VERSION, version_page, ["GET"]),
    (f"{_VERSION}/card.html", card_html, ["GET"]),
    (f"{_VERSION}/card.md", card_markdown, ["GET"]),
]
