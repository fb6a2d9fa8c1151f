"""Promotions in the client: request, follow, approve, reject."""

from __future__ import annotations

from typing import Any

from modelwright.api import promotions as ops
from modelwright.client._jobs import JobsMixin
from modelwright.client._registry import RegistryMixin
from modelwright.core.pages import PagedList
from modelwright.promotions import models as pm
from modelwright.registry.uri import parse_model_uri
from modelwright.rollouts.models import RolloutPlan

__all__ = ["PromotionsMixin"]


class PromotionsMixin(RegistryMixin, JobsMixin):
    """The promotion methods of ``Client``."""

    def promote(
        self,
        uri: str,
        to: str,
        *,
        alias: str | None = None,
        source: str | None = None,
        reason: str = "",
        workspace: str | None = None,
        to_workspace: str | None = None,
        rollout: RolloutPlan | dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float | None = None,
    ) -> pm.PromotionInfo:
        """Request that ``uri`` (``models:/churn/3`` or ``models:/dev/churn@challenger``)
        enter ``to`` through its gates. With ``wait``, return once the promotion has ended or
        waits for approval or its rollout (embedded: its checks run here).

        ``to_workspace``: enter ``to`` of another workspace (one workspace per environment),
        as a copy keeping the version's lineage. ``rollout`` (a ``RolloutPlan`` or its fields,
        e.g. ``{"endpoint": "churn", "strategy": "canary", "bake_seconds": 60}``): the last
        gate is a rollout on that endpoint of the target; the promotion completes only if the
        rollout does."""
        ref = parse_model_uri(uri)
        ws = self.resolve_workspace(workspace)
        version = ref.version
        if version is None:
            version = self.get_model_version(uri, workspace=ws).version
        promotion = self.call(
            ops.REQUEST_PROMOTION,
            workspace=ws,
            model=ref.name,
            version=version,
            to=to,
            source=source,
            alias=alias,
            reason=reason,
            to_workspace=to_workspace,
            rollout=rollout,
        )
        return self._follow(promotion, wait, timeout)

    def list_promotions(
        self,
        *,
        workspace: str | None = None,
        model: str | None = None,
        status: pm.PromotionStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> PagedList[pm.PromotionInfo]:
        """Newest first: one page of at most ``limit``; pass its ``next_page_token`` as
        ``page_token`` for the next."""
        return self.call_pages(
            ops.LIST_PROMOTIONS,
            page_token=page_token,
            limit=limit,
            workspace=workspace,
            model=model,
            status=status,
        )

    def get_promotion(self, promotion_id: int) -> pm.PromotionInfo:
        return self.call(ops.GET_PROMOTION, promotion_id=promotion_id)

    def approve_promotion(
        self,
        promotion_id: int,
        comment: str = "",
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> pm.PromotionInfo:
        """Approve; with ``wait``, return once the promotion has taken the approval in (and,
        if it was the last one needed, has promoted the version)."""
        done = self.call(ops.APPROVE_PROMOTION, promotion_id=promotion_id, comment=comment)
        return self._follow(done, wait, timeout)

    def model_card(self, uri: str, *, workspace: str | None = None) -> pm.ModelCard:
        """The card of ``models:/churn/3`` (or ``models:/prod/churn@champion``); render it
        with ``modelwright.promotions.card.render_markdown`` or ``render_html``. Its
        intended use, limitations and owners are the version's tags ``card.intended_use``,
        ``card.limitations`` and ``card.owners`` (``update_model(..., version=, tags=)``)."""
        ws = self.resolve_workspace(workspace)
        version = self.get_model_version(uri, workspace=ws)
        return self.call(ops.MODEL_CARD, workspace=ws, name=version.name, version=version.version)

    def reject_promotion(self, promotion_id: int, comment: str) -> pm.PromotionInfo:
        return self.call(ops.REJECT_PROMOTION, promotion_id=promotion_id, comment=comment)

    def _follow(
        self, promotion: pm.PromotionInfo, wait: bool, timeout: float | None
    ) -> pm.PromotionInfo:
        if not wait or promotion.job_id is None:
            return promotion
        self.wait_job(promotion.job_id, timeout=timeout)
        return self.get_promotion(promotion.id)
