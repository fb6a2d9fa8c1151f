"""Monitors: a workspace's monitors, and one monitor's report (the latest values, each signal
over time per feature, reference-versus-current histograms, alert rules and their alerts)."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import RedirectResponse, Response

from modelwright.api import alerts as al_ops
from modelwright.api import monitors as mo_ops
from modelwright.monitors.models import SIGNALS
from modelwright.ui.views._base import Endpoint, Me, signed_in
from modelwright.ui.views._charts import HEIGHT, WIDTH, paired_bars, time_series

__all__ = ["ROUTES"]

_ALERTS = 50
# Evaluations drawn over time: the latest ones.
_POINTS = 5000


def _ref(me: Me) -> dict[str, str]:
    return me.path("workspace", "environment", "name")


@signed_in
async def monitors(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    found = await me.call(mo_ops.LIST_MONITORS, workspace=workspace, limit=1000)
    return me.render("monitors.html", workspace=workspace, monitors=found.items)


def _charts(latest: list[Any]) -> list[tuple[str, str, int]]:
    """A chart a signal's metric of the latest evaluation: (signal, metric, lines), a line a
    feature (or one for a metric of no feature)."""
    lines: dict[tuple[str, str], set[str | None]] = {}
    for r in latest:
        lines.setdefault((r.signal, r.metric), set()).add(r.feature)
    # The monitor's own signals first (drift, then prediction, quality, ...).
    order = sorted(lines, key=lambda k: SIGNALS.index(k[0]) if k[0] in SIGNALS else len(SIGNALS))
    return [(s, m, len(lines[s, m])) for s, m in order]


@signed_in
async def monitor_page(me: Me) -> Response:
    ref = _ref(me)
    report, alerts = await asyncio.gather(
        me.call(mo_ops.MONITOR_REPORT, **ref),
        me.call(al_ops.ALERT_HISTORY, **ref, limit=_ALERTS),
    )
    return me.render(
        "monitor.html",
        workspace=ref["workspace"],
        report=report,
        m=report.monitor,
        charts=_charts(report.monitor.latest),
        alerts=alerts.items,
        bars=paired_bars,
        size={"w": WIDTH, "h": HEIGHT},
    )


@signed_in
async def monitor_series(me: Me) -> Response:
    """One signal's metric over the monitor's evaluations, a series a feature."""
    q = me.request.query_params
    found = await me.call(
        mo_ops.MONITOR_HISTORY,
        **_ref(me),
        signal=q.get("signal") or None,
        metric=q.get("metric") or None,
        limit=_POINTS,
    )
    return time_series((r.evaluated_at, r.feature or r.metric, r.value) for r in found.items)


@signed_in
async def run_monitor(me: Me) -> Response:
    await me.form()
    ref = _ref(me)
    await me.call(mo_ops.RUN_MONITOR, **ref)
    return RedirectResponse(
        f"/w/{ref['workspace']}/monitors/{ref['environment']}/{ref['name']}", 303
    )


_ONE = "/w/{workspace}/monitors/{environment}/{name}"

ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/monitors", monitors, ["GET"]),
    (_ONE, monitor_page, ["GET"]),
    (f"{_ONE}/series", monitor_series, ["GET"]),
    (f"{_ONE}/run", run_monitor, ["POST"]),
]
