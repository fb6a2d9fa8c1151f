"""Operations of the alert rules of monitors: add, list (with their states), remove, history."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.monitors import alert_models as am

V1 = "/api/v1"
_ALERTS = f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/monitors/{{name}}/alerts"

ADD_ALERT_RULE = Operation(
    "add_alert_rule",
    "POST",
    _ALERTS,
    am.AddAlertRule,
    am.AlertRuleInfo,
    "modelwright.monitors.alerts:add_alert_rule",
    "Add an alert rule to a monitor: a condition held for N evaluations, and its sinks",
    "monitors",
    status=201,
)
LIST_ALERT_RULES = Operation(
    "list_alert_rules",
    "GET",
    _ALERTS,
    am.ListAlertRules,
    Page[am.AlertRuleInfo],
    "modelwright.monitors.alerts:list_alert_rules",
    "A monitor's alert rules and their states (ok, firing, resolved)",
    "monitors",
)
REMOVE_ALERT_RULE = Operation(
    "remove_alert_rule",
    "DELETE",
    f"{_ALERTS}/rules/{{rule}}",
    am.AlertRuleRef,
    am.AlertRuleInfo,
    "modelwright.monitors.alerts:remove_alert_rule",
    "Remove an alert rule and its history",
    "monitors",
)
ALERT_HISTORY = Operation(
    "alert_history",
    "GET",
    f"{_ALERTS}/history",
    am.AlertHistory,
    Page[am.AlertEvent],
    "modelwright.monitors.alerts:alert_history",
    "Transitions of a monitor's alert rules and their deliveries, newest first",
    "monitors",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
