"""Alert rules of monitors in the client: add, list (with states), remove, history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from modelwright.api import alerts as ops
from modelwright.client._monitors import MonitorsMixin
from modelwright.core.pages import PagedList
from modelwright.monitors import alert_models as am

__all__ = ["AlertsMixin"]

SinkLike = str | am.SinkSpec | dict[str, Any]


def sink_spec(sink: SinkLike, format: str = "json") -> dict[str, Any]:
    """``"log"``, ``"webhook:https://…"``, ``"command:notify --page"`` or a ``SinkSpec``."""
    if isinstance(sink, am.SinkSpec):
        return sink.model_dump()
    if isinstance(sink, dict):
        return sink
    kind, _, target = sink.partition(":")
    return {"kind": kind.strip(), "target": target.strip(), "format": format}


class AlertsMixin(MonitorsMixin):
    """The alert methods of ``Client``."""

    def add_alert_rule(
        self,
        monitor: str,
        name: str,
        *,
        when: str | None = None,
        signal: str | None = None,
        metric: str | None = None,
        feature: str | None = None,
        operator: str | None = None,
        threshold: float | None = None,
        consecutive: int = 1,
        sinks: Sequence[SinkLike] = ("log",),
        format: str = "json",
        secret: str | None = None,
        description: str = "",
        workspace: str | None = None,
        environment: str | None = None,
    ) -> am.AlertRuleInfo:
        """Fire when ``when`` (``"drift.drift_share >= 0.5"``) holds for ``consecutive``
        evaluations in a row; notify ``sinks`` once when it fires and once when it resolves.
        Webhooks are signed with ``secret`` (``X-Modelwright-Signature``); ``format="slack"``
        posts ``{"text": …}``."""
        return self.call(
            ops.ADD_ALERT_RULE,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            rule=name,
            when=when,
            signal=signal,
            metric=metric,
            feature=feature,
            operator=operator,
            threshold=threshold,
            consecutive=consecutive,
            sinks=[sink_spec(s, format) for s in sinks],
            secret=secret,
            description=description,
        )

    def list_alert_rules(
        self,
        monitor: str,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[am.AlertRuleInfo]:
        """The monitor's rules with their states (ok, firing, resolved): all of them, or one
        page with ``page_token``/``limit``."""
        return self.call_pages(
            ops.LIST_ALERT_RULES,
            page_token=page_token,
            limit=limit,
            **self._monitor_scope(workspace, environment),
            name=monitor,
        )

    def remove_alert_rule(
        self,
        monitor: str,
        name: str,
        *,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> am.AlertRuleInfo:
        return self.call(
            ops.REMOVE_ALERT_RULE,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            rule=name,
        )

    def alert_history(
        self,
        monitor: str,
        *,
        rule: str | None = None,
        limit: int = 100,
        workspace: str | None = None,
        environment: str | None = None,
        page_token: str | None = None,
    ) -> PagedList[am.AlertEvent]:
        """Transitions of the monitor's rules (newest first) with their deliveries: one
        page of at most ``limit``; pass its ``next_page_token`` as ``page_token`` for the next."""
        return self.call_pages(
            ops.ALERT_HISTORY,
            page_token=page_token,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            rule=rule,
            limit=limit,
        )
