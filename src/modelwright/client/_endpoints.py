"""Endpoints in the client: create, deploy, split traffic, shadow; authorize an invocation
(the router asks), record and read serving statistics, routing reports and history.

Invoking an endpoint is an HTTP request to the router (``modelwright serve``), not a client
method."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from modelwright.api import endpoints as ops
from modelwright.client._base import ClientBase
from modelwright.core.pages import PagedList
from modelwright.endpoints import models as em
from modelwright.endpoints import routing_models as rm
from modelwright.endpoints import stats_models as sm

__all__ = ["EndpointsMixin"]


class EndpointsMixin(ClientBase):
    """The endpoint methods of ``Client``."""

    def _endpoint_scope(self, workspace: str | None, environment: str | None) -> tuple[str, str]:
        ws = self.resolve_workspace(workspace)
        return ws, self.resolve_environment(ws, environment)

    def create_endpoint(
        self,
        name: str,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        description: str = "",
    ) -> em.EndpointInfo:
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(
            ops.CREATE_ENDPOINT, workspace=ws, environment=env, name=name, description=description
        )

    def list_endpoints(
        self,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[em.EndpointInfo]:
        """Every endpoint you may see (in one environment, or all), or one page of them."""
        ws = self.resolve_workspace(workspace)
        return self.call_pages(
            ops.LIST_ENDPOINTS,
            page_token=page_token,
            limit=limit,
            workspace=ws,
            environment=environment,
        )

    def get_endpoint(
        self, name: str, *, workspace: str | None = None, environment: str | None = None
    ) -> em.EndpointInfo:
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(ops.GET_ENDPOINT, workspace=ws, environment=env, endpoint=name)

    def delete_endpoint(
        self, name: str, *, workspace: str | None = None, environment: str | None = None
    ) -> em.EndpointInfo:
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(ops.DELETE_ENDPOINT, workspace=ws, environment=env, endpoint=name)

    def deploy(
        self,
        endpoint: str,
        deployment: str,
        model: str,
        version: int,
        *,
        weight: int | None = None,
        config: em.ServingConfig | dict[str, Any] | None = None,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> em.EndpointInfo:
        """Deploy ``model`` version ``version`` as ``deployment`` of ``endpoint``."""
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(
            ops.DEPLOY,
            workspace=ws,
            environment=env,
            endpoint=endpoint,
            deployment=deployment,
            model=model,
            version=version,
            weight=weight,
            config=config,
        )

    def undeploy(
        self,
        endpoint: str,
        deployment: str,
        *,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> em.EndpointInfo:
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(
            ops.UNDEPLOY, workspace=ws, environment=env, endpoint=endpoint, deployment=deployment
        )

    def set_traffic(
        self,
        endpoint: str,
        weights: dict[str, int],
        *,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> em.EndpointInfo:
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(
            ops.SET_TRAFFIC, workspace=ws, environment=env, endpoint=endpoint, weights=weights
        )

    def set_shadow(
        self,
        endpoint: str,
        deployment: str | None,
        percent: int = 100,
        *,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> em.EndpointInfo:
        """Mirror ``percent`` % of requests to ``deployment`` (None removes the shadow)."""
        ws, env = self._endpoint_scope(workspace, environment)
        fields: dict[str, Any] = {"percent": percent}
        if deployment is not None:
            fields["deployment"] = deployment
        return self.call(ops.SET_SHADOW, workspace=ws, environment=env, endpoint=endpoint, **fields)

    def authorize_invoke(
        self, token: str, *, workspace: str, environment: str
    ) -> em.InvokeDecision:
        return self.call(
            ops.AUTHORIZE_INVOKE, workspace=workspace, environment=environment, token=token
        )

    def record_serving_stats(self, flush: sm.RecordServingStats) -> sm.StatsRecorded:
        """Record a router's flush (``modelwright serve`` calls this every few seconds)."""
        return self.call(ops.RECORD_SERVING_STATS, **flush.model_dump(exclude_none=True))

    def report_routing(self, report: rm.ReportRouting) -> rm.RoutingRecorded:
        """Replace this router's reported table (``modelwright serve`` calls this)."""
        return self.call(ops.REPORT_ROUTING, **report.model_dump())

    def endpoint_routing(
        self, endpoint: str, *, workspace: str | None = None, environment: str | None = None
    ) -> rm.EndpointRouting:
        """The endpoint's recorded routing beside what each live router routes by: ``state``
        is ``matches``, ``differs`` or ``unobserved`` (no router reported recently)."""
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(ops.GET_ENDPOINT_ROUTING, workspace=ws, environment=env, endpoint=endpoint)

    def serving_stats(
        self,
        endpoint: str,
        *,
        deployment: str | None = None,
        since: datetime | timedelta | None = None,
        until: datetime | None = None,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> sm.ServingStats:
        """Requests, errors by class and latency per deployment of ``endpoint``, summed over
        every router, for the intervals that ended in the window (``since`` may be an age:
        ``timedelta(minutes=10)``; default the last hour). A deployment without requests in
        the window has ``has_data`` false and None rates and percentiles."""
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call(
            ops.GET_SERVING_STATS,
            workspace=ws,
            environment=env,
            endpoint=endpoint,
            deployment=deployment,
            **_window(since, until),
        )

    def serving_stats_series(
        self,
        endpoint: str,
        *,
        step: timedelta | int = 60,
        deployment: str | None = None,
        since: datetime | timedelta | None = None,
        until: datetime | None = None,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> sm.ServingStatsSeries:
        """``serving_stats`` per ``step`` (seconds or a timedelta) and deployment."""
        ws, env = self._endpoint_scope(workspace, environment)
        seconds = int(step.total_seconds()) if isinstance(step, timedelta) else step
        return self.call(
            ops.GET_SERVING_STATS_SERIES,
            workspace=ws,
            environment=env,
            endpoint=endpoint,
            deployment=deployment,
            step_seconds=seconds,
            **_window(since, until),
        )

    def endpoint_history(
        self,
        endpoint: str,
        *,
        at: datetime | None = None,
        limit: int = 200,
        workspace: str | None = None,
        environment: str | None = None,
        page_token: str | None = None,
    ) -> PagedList[em.EndpointChange]:
        """Every change of the endpoint's routing, newest first, each with the state it
        left; with ``at``, the one in force then ("what served in prod at ten"). One page of
        at most ``limit``; pass its ``next_page_token`` as ``page_token`` for the next."""
        ws, env = self._endpoint_scope(workspace, environment)
        return self.call_pages(
            ops.ENDPOINT_HISTORY,
            page_token=page_token,
            workspace=ws,
            environment=env,
            endpoint=endpoint,
            at=at,
            limit=limit,
        )


def _window(since: datetime | timedelta | None, until: datetime | None) -> dict[str, Any]:
    if isinstance(since, timedelta):
        since = (until or datetime.now(UTC)) - since
    return {"since": since, "until": until}
