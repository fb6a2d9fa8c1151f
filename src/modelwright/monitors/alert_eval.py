"""Evaluating a monitor's alert rules on the values of one evaluation, in its transaction.

Per rule: an evaluation where the condition holds is a breach; ``consecutive`` breaches in a
row fire the rule (``ok`` or ``resolved`` → ``firing``); the first evaluation where it does not
hold resolves a firing rule (``firing`` → ``resolved``) and starts the count again. An
evaluation without a value for the condition (``no_data``, or ``error``) neither breaches
nor resolves: the count and the state stay as they were. Each transition is one
``alert_events`` row, one ``alert.firing`` or ``alert.resolved`` event, and one notification
(delivered by the workflow's next step, outside this transaction).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.store import schema

__all__ = ["evaluate_rules", "rule_value"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


def rule_value(rule: schema.AlertRule, rows: Sequence[dict[str, Any]]) -> float | None:
    """The value the rule compares: its feature's, or without a feature the worst of the
    features' in the direction of its operator; None when the evaluation has none."""
    values = [
        float(r["value"])
        for r in rows
        if r["signal"] == rule.signal
        and r["metric"] == rule.metric
        and (rule.feature is None or r["feature"] == rule.feature)
        and r["value"] is not None
        and r["status"] in ("ok", "alert")
    ]
    if not values:
        return None
    return max(values) if rule.op.startswith(">") else min(values)


def evaluate_rules(
    ctx: Context,
    monitor: schema.Monitor,
    at: datetime,
    start: datetime,
    rows: Sequence[dict[str, Any]],
) -> list[int]:
    """Advance every rule of ``monitor``; returns the ids of the transitions recorded."""
    recorded = []
    rules = ctx.session.scalars(
        select(schema.AlertRule)
        .where(schema.AlertRule.monitor_id == monitor.id)
        .order_by(schema.AlertRule.id)
    )
    for rule in rules:
        value = rule_value(rule, rows)
        rule.last_evaluated_at = at
        if value is None:
            continue  # no data: neither a breach nor a resolution
        rule.value = value
        if _OPS[rule.op](value, rule.threshold):
            rule.breaches += 1
            if rule.state != "firing" and rule.breaches >= rule.consecutive:
                recorded.append(
                    _transition(ctx, monitor, rule, state="firing", value=value, at=at, start=start)
                )
        else:
            rule.breaches = 0
            if rule.state == "firing":
                recorded.append(
                    _transition(
                        ctx, monitor, rule, state="resolved", value=value, at=at, start=start
                    )
                )
    return recorded


def _transition(
    ctx: Context,
    monitor: schema.Monitor,
    rule: schema.AlertRule,
    *,
    state: str,
    value: float,
    at: datetime,
    start: datetime,
) -> int:
    rule.state = state
    rule.since = at
    env = monitor.environment
    event = schema.AlertEvent(
        rule_id=rule.id,
        monitor_id=monitor.id,
        state=state,
        value=value,
        threshold=rule.threshold,
        evaluated_at=at,
        window_start=start,
        window_end=at,
        deliveries=[],
    )
    event.payload = alert = payload(monitor, rule, event)
    ctx.session.add(event)
    ctx.session.flush()
    ctx.event(
        f"alert.{state}",
        workspace=env.workspace.name,
        environment=env.name,
        subject=f"monitor/{monitor.id}/alert/{rule.name}",
        data={k: v for k, v in alert.items() if k != "summary"},
    )
    return event.id


def condition(rule: schema.AlertRule) -> str:
    feature = "" if rule.feature is None else f"[{rule.feature}]"
    return f"{rule.signal}.{rule.metric}{feature} {rule.op} {rule.threshold:g}"


def payload(
    monitor: schema.Monitor, rule: schema.AlertRule, event: schema.AlertEvent
) -> dict[str, Any]:
    """The alert as every sink receives it (no link: the receiver may not reach the server)."""
    state, value, start, at = event.state, event.value, event.window_start, event.evaluated_at
    env = monitor.environment
    where = f"{env.workspace.name}/{env.name}"
    cond = condition(rule)
    if state == "firing":
        summary = (
            f"[FIRING] {where} monitor {monitor.name}, rule {rule.name}: {cond} held for "
            f"{rule.consecutive} evaluation(s) in a row (now {value:g})"
        )
    else:
        summary = (
            f"[RESOLVED] {where} monitor {monitor.name}, rule {rule.name}: {cond} "
            f"no longer holds (now {value:g})"
        )
    return {
        "workspace": env.workspace.name,
        "environment": env.name,
        "monitor": monitor.name,
        "endpoint": None if monitor.endpoint is None else monitor.endpoint.name,
        "dataset": monitor.dataset,
        "rule": rule.name,
        "condition": cond,
        "state": state,
        "value": value,
        "threshold": rule.threshold,
        "consecutive": rule.consecutive,
        "window": {"start": start.isoformat(), "end": at.isoformat()},
        "evaluated_at": at.isoformat(),
        "summary": summary,
    }
