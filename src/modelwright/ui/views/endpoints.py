"""Real-time endpoints and their rollouts: a workspace's endpoints; one endpoint (deployments,
traffic weights and shadow, set there by those allowed; request rate, latency and errors per
deployment; what the live routers route by; its changes and rollouts); and a rollout's steps
with their verdicts, followed live while it runs, paused, resumed or aborted by those allowed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from starlette.responses import RedirectResponse, Response

from modelwright.api import endpoints as ep_ops
from modelwright.api import rollouts as ro_ops
from modelwright.core.clock import utcnow
from modelwright.endpoints.stats_models import SeriesPoint
from modelwright.errors import InvalidInput
from modelwright.rollouts.models import ACTIVE
from modelwright.ui.links import model_link
from modelwright.ui.views._base import Endpoint, Me, signed_in
from modelwright.ui.views._charts import time_series

__all__ = ["ROUTES"]

_ROLLOUTS = 50
_HISTORY = 50
# The statistics shown: the last hour, a point a minute.
_WINDOW = timedelta(hours=1)
_STEP_SECONDS = 60
# What each chart of an endpoint's page draws of a series point, per deployment.
_MEASURES: dict[str, tuple[str, Callable[[SeriesPoint], float | None]]] = {
    "rate": ("Requests per second", lambda p: p.requests / _STEP_SECONDS),
    "p99_ms": ("p99 latency (ms)", lambda p: p.p99_ms),
    "error_rate": ("Error rate", lambda p: p.error_rate),
}


def _endpoint_ref(me: Me) -> dict[str, str]:
    return me.path("workspace", "environment", "endpoint")


@signed_in
async def endpoints(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    found, rollouts = await asyncio.gather(
        me.call(ep_ops.LIST_ENDPOINTS, workspace=workspace, limit=1000),
        me.call(ro_ops.LIST_ROLLOUTS, workspace=workspace, limit=_ROLLOUTS),
    )
    return me.render(
        "endpoints.html",
        workspace=workspace,
        endpoints=found.items,
        rollouts=rollouts.items,
    )


@signed_in
async def endpoint_page(me: Me) -> Response:
    ref = _endpoint_ref(me)
    info, stats, routing, history, rollouts = await asyncio.gather(
        me.call(ep_ops.GET_ENDPOINT, **ref),
        me.call(ep_ops.GET_SERVING_STATS, **ref, since=utcnow() - _WINDOW),
        me.call(ep_ops.GET_ENDPOINT_ROUTING, **ref),
        me.call(ep_ops.ENDPOINT_HISTORY, **ref, limit=_HISTORY),
        me.call(ro_ops.LIST_ROLLOUTS, **ref, limit=_ROLLOUTS),
    )
    return me.render(
        "endpoint.html",
        workspace=ref["workspace"],
        e=info,
        stats=stats,
        routing=routing,
        history=history.items,
        rollouts=rollouts.items,
        measures={k: label for k, (label, _) in _MEASURES.items()},
        model_link=model_link,
    )


@signed_in
async def endpoint_series(me: Me) -> Response:
    """One measure of the endpoint's serving statistics over the last hour, a series a
    deployment."""
    measure = me.request.query_params.get("measure", "rate")
    if measure not in _MEASURES:
        raise InvalidInput(f"measure: expected one of {', '.join(_MEASURES)}, got {measure!r}")
    _, read = _MEASURES[measure]
    series = await me.call(
        ep_ops.GET_SERVING_STATS_SERIES,
        **_endpoint_ref(me),
        since=utcnow() - _WINDOW,
        step_seconds=_STEP_SECONDS,
    )
    return time_series(
        ((p.at, p.deployment or "(refused)", read(p)) for p in series.points if p.has_data),
        window=(series.since, series.until),
    )


def _endpoint_path(ref: dict[str, str]) -> str:
    return f"/w/{ref['workspace']}/endpoints/{ref['environment']}/{ref['endpoint']}"


@signed_in
async def set_traffic(me: Me) -> Response:
    """The weights form: one ``weight.<deployment>`` field a deployment (the service checks
    them: names, bounds, the sum)."""
    fields = await me.form()
    ref = _endpoint_ref(me)
    weights = {k.removeprefix("weight."): v for k, v in fields.items() if k.startswith("weight.")}
    await me.call(ep_ops.SET_TRAFFIC, **ref, weights=weights)
    return RedirectResponse(_endpoint_path(ref), 303)


@signed_in
async def set_shadow(me: Me) -> Response:
    fields = await me.form()
    ref = _endpoint_ref(me)
    await me.call(
        ep_ops.SET_SHADOW,
        **ref,
        deployment=fields.get("deployment") or None,
        percent=fields.get("percent") or 100,
    )
    return RedirectResponse(_endpoint_path(ref), 303)


async def _rollout(me: Me) -> Any:
    return await me.call(ro_ops.GET_ROLLOUT, rollout_id=me.request.path_params["rollout_id"])


@signed_in
async def rollout_page(me: Me) -> Response:
    r = await _rollout(me)
    return me.render("rollout.html", r=r, active=r.status in ACTIVE, model_link=model_link)


@signed_in
async def rollout_live(me: Me) -> Response:
    """The part of a rollout's page that changes while it runs (polled by the page)."""
    r = await _rollout(me)
    return me.render("_rollout_live.html", r=r, active=r.status in ACTIVE)


def _rollout_action(op: Any) -> Endpoint:
    @signed_in
    async def act(me: Me) -> Response:
        await me.form()
        rollout_id = me.request.path_params["rollout_id"]
        await me.call(op, rollout_id=rollout_id)
        return RedirectResponse(f"/rollouts/{rollout_id}", 303)

    return act


_EP = "/w/{workspace}/endpoints/{environment}/{endpoint}"
_RO = "/rollouts/{rollout_id}"

ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/endpoints", endpoints, ["GET"]),
    (_EP, endpoint_page, ["GET"]),
    (f"{_EP}/series", endpoint_series, ["GET"]),
    (f"{_EP}/traffic", set_traffic, ["POST"]),
    (f"{_EP}/shadow", set_shadow, ["POST"]),
    (_RO, rollout_page, ["GET"]),
    (f"{_RO}/live", rollout_live, ["GET"]),
    (f"{_RO}/pause", _rollout_action(ro_ops.PAUSE_ROLLOUT), ["POST"]),
    (f"{_RO}/resume", _rollout_action(ro_ops.RESUME_ROLLOUT), ["POST"]),
    (f"{_RO}/abort", _rollout_action(ro_ops.ABORT_ROLLOUT), ["POST"]),
]
