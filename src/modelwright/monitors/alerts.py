"""Alert rules of monitors: the operations, and the delivery step of the monitor workflow.

Adding and removing a rule needs what changing its monitor needs (``endpoint.deploy``, or
``data.write`` for a series monitor, in the environment); a ``command`` sink runs a shell on the platform's workers, so it also
needs a platform administrator. Reading rules, their states and their history needs what
reading the monitor needs. Rules are evaluated where the evaluation is recorded
(``alert_eval``); their notifications are delivered by the next step, outside any
transaction, so a slow receiver never holds a lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.models import from_row
from modelwright.core.pages import Page
from modelwright.errors import Conflict, InvalidInput, NotFound
from modelwright.monitors import alert_models as am
from modelwright.monitors._rows import change_action, visible_monitor
from modelwright.monitors.alert_eval import condition
from modelwright.monitors.sinks import Delivery, SinkConfig, get_sink, sink_names
from modelwright.store import schema

__all__ = [
    "add_alert_rule",
    "alert_history",
    "list_alert_rules",
    "notification",
    "pending_notifications",
    "record_deliveries",
    "remove_alert_rule",
]

A = schema.AlertRule
E = schema.AlertEvent


# -- operations -------------------------------------------------------------------------------
def add_alert_rule(ctx: Context, req: am.AddAlertRule) -> am.AlertRuleInfo:
    monitor = visible_monitor(ctx, req)
    ctx.require(change_action(monitor), req.workspace, req.environment)
    c = req.condition()
    if c.signal not in monitor.signals:
        raise InvalidInput(
            f"when: monitor '{monitor.name}' does not evaluate the {c.signal} signal "
            f"(it evaluates {', '.join(monitor.signals)})",
            details={"field": "when", "signal": c.signal},
        )
    sinks = [_check_sink(ctx, i, s) for i, s in enumerate(req.sinks)]
    if ctx.session.scalar(select(A.id).where(A.monitor_id == monitor.id, A.name == req.rule)):
        raise Conflict(
            f"alert rule '{req.rule}' exists on monitor '{monitor.name}'",
            details={"rule": req.rule},
        )
    rule = A(
        monitor_id=monitor.id,
        name=req.rule,
        signal=c.signal,
        metric=c.metric,
        feature=c.feature,
        op=c.op,
        threshold=c.threshold,
        consecutive=req.consecutive,
        sinks=sinks,
        secret=req.secret,
        description=req.description,
        created_by=ctx.caller.name,
        created_at=utcnow(),
        state="ok",
        breaches=0,
    )
    ctx.session.add(rule)
    ctx.session.flush()
    _audit(ctx, monitor, rule, "alert_rule.create")
    return _info(rule)


def list_alert_rules(ctx: Context, req: am.ListAlertRules) -> Page[am.AlertRuleInfo]:
    """The monitor's rules with their states, in the order they were added."""
    monitor = visible_monitor(ctx, req)
    rules, token = keyset_page(
        ctx.session, _rules(monitor.id), [Key(A.id)], req, scope="alert_rules"
    )
    return Page(items=[_info(r) for r in rules], next_page_token=token)


def remove_alert_rule(ctx: Context, req: am.AlertRuleRef) -> am.AlertRuleInfo:
    """The rule and its history go."""
    monitor = visible_monitor(ctx, req)
    ctx.require(change_action(monitor), req.workspace, req.environment)
    rule = ctx.session.scalar(_rules(monitor.id).where(A.name == req.rule))
    if rule is None:
        raise NotFound(
            f"alert rule '{req.rule}' not found on monitor '{monitor.name}'",
            details={"rule": req.rule},
        )
    info = _info(rule)
    _audit(ctx, monitor, rule, "alert_rule.delete")
    ctx.session.delete(rule)
    return info


def alert_history(ctx: Context, req: am.AlertHistory) -> Page[am.AlertEvent]:
    """The transitions of the monitor's rules, newest first."""
    monitor = visible_monitor(ctx, req)
    q = select(E).join(A).where(E.monitor_id == monitor.id)
    if req.rule is not None:
        q = q.where(A.name == req.rule)
    found, token = keyset_page(
        ctx.session, q, [Key(E.id, descending=True)], req, scope="alert_history"
    )
    return Page(items=[_event(e) for e in found], next_page_token=token)


# -- the workflow's delivery step ---------------------------------------------------------------
def pending_notifications(ctx: Context, monitor_id: int) -> list[int]:
    """Transitions of the monitor not delivered yet, oldest first."""
    return list(
        ctx.session.scalars(
            select(E.id).where(E.monitor_id == monitor_id, E.delivered_at.is_(None)).order_by(E.id)
        )
    )


def notification(ctx: Context, event_id: int) -> tuple[dict[str, Any], list[SinkConfig]] | None:
    """The alert and where it goes; None when it was delivered or its rule is gone."""
    e = ctx.session.get(E, event_id)
    if e is None or e.delivered_at is not None:
        return None
    rule = e.rule
    sinks = [
        SinkConfig(kind=s["kind"], target=s["target"], format=s["format"], secret=rule.secret)
        for s in rule.sinks
    ]
    return dict(e.payload), sinks


def record_deliveries(ctx: Context, event_id: int, outcomes: list[dict[str, Any]]) -> None:
    e = ctx.session.get(E, event_id)
    if e is not None:
        e.deliveries = outcomes
        e.delivered_at = utcnow()


def deliver(alert: dict[str, Any], sinks: list[SinkConfig]) -> list[dict[str, Any]]:
    """Each sink once (its own retries aside); a sink gone since the rule was added, or one
    that raises, is a failed delivery, never a failed evaluation."""
    out = []
    for config in sinks:
        sink = get_sink(config.kind)
        if sink is None:
            done = Delivery(ok=False, attempts=0, detail=f"no alert sink named '{config.kind}'")
        else:
            try:
                done = sink.deliver(alert, config)
            except Exception as exc:  # a plug-in's bug
                done = Delivery(ok=False, attempts=1, detail=f"{type(exc).__name__}: {exc}")
        out.append(
            {"sink": config.label, "ok": done.ok, "attempts": done.attempts, "detail": done.detail}
        )
    return out


# -- helpers ----------------------------------------------------------------------------------
def _check_sink(ctx: Context, i: int, spec: am.SinkSpec) -> dict[str, Any]:
    field = f"sinks[{i}]"
    sink = get_sink(spec.kind)
    if sink is None:
        raise InvalidInput(
            f"{field}: no alert sink named '{spec.kind}' (known: {', '.join(sink_names())})",
            details={"field": field},
        )
    try:
        target = sink.check(spec.target)
    except ValueError as exc:
        raise InvalidInput(f"{field}: {exc}", details={"field": field}) from None
    if spec.kind == "command":
        ctx.require_platform_admin("add a command sink (it runs a shell on the workers)")
    return {"kind": spec.kind, "target": target, "format": spec.format}


def _rules(monitor_id: int) -> Any:
    return select(A).where(A.monitor_id == monitor_id).order_by(A.id)


def _audit(ctx: Context, monitor: schema.Monitor, rule: schema.AlertRule, action: str) -> None:
    env = monitor.environment
    state = {
        "monitor": monitor.name,
        "rule": rule.name,
        "condition": condition(rule),
        "consecutive": rule.consecutive,
        "sinks": [f"{s['kind']}:{s['target']}" if s["target"] else s["kind"] for s in rule.sinks],
        "signed": rule.secret is not None,
    }
    deleted = action.endswith("delete")
    ctx.audit(
        action,
        workspace=env.workspace.name,
        environment=env.name,
        target=f"monitor:{monitor.name}/alert:{rule.name}",
        before=state if deleted else None,
        after=None if deleted else state,
    )


def _info(rule: schema.AlertRule) -> am.AlertRuleInfo:
    return from_row(
        am.AlertRuleInfo,
        rule,
        monitor=rule.monitor.name,
        condition=condition(rule),
        sinks=[am.SinkInfo(**s) for s in rule.sinks],
        signed=rule.secret is not None,
    )


def _event(e: schema.AlertEvent) -> am.AlertEvent:
    return from_row(
        am.AlertEvent,
        e,
        monitor=e.payload.get("monitor", ""),
        rule=e.rule.name,
        condition=e.payload.get("condition", ""),
        deliveries=[am.DeliveryInfo(**d) for d in e.deliveries],
    )
