"""Operations of promotions: request, list, show, approve, reject."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.promotions import models as pm

V1 = "/api/v1"
_ONE = f"{V1}/promotions/{{promotion_id}}"

REQUEST_PROMOTION = Operation(
    "request_promotion",
    "POST",
    f"{V1}/workspaces/{{workspace}}/promotions",
    pm.RequestPromotion,
    pm.PromotionInfo,
    "modelwright.promotions.service:request_promotion",
    "Request that a model version enter the next environment through its gates",
    "promotions",
)
LIST_PROMOTIONS = Operation(
    "list_promotions",
    "GET",
    f"{V1}/promotions",
    pm.ListPromotions,
    Page[pm.PromotionInfo],
    "modelwright.promotions.service:list_promotions",
    "List promotions the caller may read (newest first)",
    "promotions",
)
GET_PROMOTION = Operation(
    "get_promotion",
    "GET",
    _ONE,
    pm.PromotionRef,
    pm.PromotionInfo,
    "modelwright.promotions.service:get_promotion",
    "A promotion with each gate's result and evidence, and the decisions",
    "promotions",
)
APPROVE_PROMOTION = Operation(
    "approve_promotion",
    "POST",
    f"{_ONE}/approve",
    pm.Decide,
    pm.PromotionInfo,
    "modelwright.promotions.service:approve_promotion",
    "Approve a promotion (four eyes: not one's own request or model)",
    "promotions",
)
REJECT_PROMOTION = Operation(
    "reject_promotion",
    "POST",
    f"{_ONE}/reject",
    pm.Reject,
    pm.PromotionInfo,
    "modelwright.promotions.service:reject_promotion",
    "Reject a promotion, with a comment; it ends and changes nothing",
    "promotions",
)

MODEL_CARD = Operation(
    "model_card",
    "GET",
    f"{V1}/workspaces/{{workspace}}/models/{{name}}/versions/{{version}}/card",
    pm.CardRequest,
    pm.ModelCard,
    "modelwright.promotions.card:model_card",
    "A model version's card: description, use, limits, owners, data, metrics, gates, history",
    "promotions",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
