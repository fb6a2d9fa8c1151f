"""Promotions: a workspace's queue, and one promotion with each gate's evidence, the decisions
taken and the approve and reject forms (the service decides who may: four eyes included)."""

from __future__ import annotations

from typing import Any, get_args

from starlette.responses import RedirectResponse, Response

from modelwright.api import Operation
from modelwright.api import promotions as pr_ops
from modelwright.promotions.models import FINISHED, PromotionStatus
from modelwright.ui.links import model_link
from modelwright.ui.views._base import Endpoint, Me, signed_in

__all__ = ["ROUTES"]

_PAGE = 50
_STATUSES = get_args(PromotionStatus)


@signed_in
async def promotions(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    q = me.request.query_params
    view = {k: q.get(k, "") for k in ("status", "model", "page_token")}
    found = await me.call(
        pr_ops.LIST_PROMOTIONS,
        workspace=workspace,
        status=view["status"] or None,
        model=view["model"] or None,
        limit=_PAGE,
        page_token=view["page_token"] or None,
    )
    return me.render(
        "promotions.html",
        workspace=workspace,
        promotions=found.items,
        next_token=found.next_page_token,
        view=view,
        statuses=_STATUSES,
    )


@signed_in
async def promotion_page(me: Me) -> Response:
    p = await me.call(pr_ops.GET_PROMOTION, promotion_id=me.request.path_params["promotion_id"])
    return me.render(
        "promotion.html",
        p=p,
        decidable=p.status not in FINISHED,
        model_link=model_link,
    )


async def _decide(me: Me, op: Operation[Any, Any]) -> Response:
    fields = await me.form()
    promotion_id = me.request.path_params["promotion_id"]
    await me.call(op, promotion_id=promotion_id, comment=fields.get("comment", ""))
    return RedirectResponse(f"/promotions/{promotion_id}", 303)


@signed_in
async def approve(me: Me) -> Response:
    return await _decide(me, pr_ops.APPROVE_PROMOTION)


@signed_in
async def reject(me: Me) -> Response:
    return await _decide(me, pr_ops.REJECT_PROMOTION)


_ONE = "/promotions/{promotion_id}"

ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/promotions", promotions, ["GET"]),
    (_ONE, promotion_page, ["GET"]),
    (f"{_ONE}/approve", approve, ["POST"]),
    (f"{_ONE}/reject", reject, ["POST"]),
]
