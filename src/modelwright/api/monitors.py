"""Operations of monitors: create, list, show, run, history, report, delete."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.monitors import models as mm
from modelwright.monitors import report_models as rp

V1 = "/api/v1"
_ENV = f"{V1}/workspaces/{{workspace}}/environments/{{environment}}"
_ONE = f"{_ENV}/monitors/{{name}}"

CREATE_MONITOR = Operation(
    "create_monitor",
    "POST",
    f"{_ENV}/monitors",
    mm.CreateMonitor,
    mm.MonitorDetail,
    "modelwright.monitors.service:create_monitor",
    "Watch an endpoint's captured traffic against a baseline dataset version",
    "monitors",
    status=201,
)
LIST_MONITORS = Operation(
    "list_monitors",
    "GET",
    f"{V1}/monitors",
    mm.ListMonitors,
    Page[mm.MonitorInfo],
    "modelwright.monitors.service:list_monitors",
    "List monitors of endpoints the caller may see",
    "monitors",
)
GET_MONITOR = Operation(
    "get_monitor",
    "GET",
    _ONE,
    mm.MonitorRef,
    mm.MonitorDetail,
    "modelwright.monitors.service:get_monitor",
    "A monitor with its latest evaluation's values",
    "monitors",
)
DELETE_MONITOR = Operation(
    "delete_monitor",
    "DELETE",
    _ONE,
    mm.MonitorRef,
    mm.MonitorInfo,
    "modelwright.monitors.service:delete_monitor",
    "Delete a monitor, its schedule and its history",
    "monitors",
)
RUN_MONITOR = Operation(
    "run_monitor",
    "POST",
    f"{_ONE}/run",
    mm.MonitorRef,
    mm.MonitorRun,
    "modelwright.monitors.service:run_monitor",
    "Evaluate a monitor now, as a job of the platform's workers",
    "monitors",
)
MONITOR_HISTORY = Operation(
    "monitor_history",
    "GET",
    f"{_ONE}/history",
    mm.MonitorHistory,
    Page[mm.MonitorResult],
    "modelwright.monitors.service:monitor_history",
    "The values of a monitor's evaluations over time, oldest first",
    "monitors",
)
MONITOR_REPORT = Operation(
    "monitor_report",
    "GET",
    f"{_ONE}/report",
    rp.MonitorReportRequest,
    rp.MonitorReport,
    "modelwright.monitors.report_service:monitor_report",
    "A monitor's report: baseline-versus-window histograms, drift over time, quality, alerts",
    "monitors",
    reads_only=True,
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
