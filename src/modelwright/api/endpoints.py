"""Operations of real-time endpoints."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.endpoints import models as em
from modelwright.endpoints import routing_models as rm
from modelwright.endpoints import stats_models as sm

V1 = "/api/v1"
_ENV = f"{V1}/workspaces/{{workspace}}/environments/{{environment}}"
_EP = f"{_ENV}/endpoints/{{endpoint}}"

CREATE_ENDPOINT = Operation(
    "create_endpoint",
    "POST",
    f"{_ENV}/endpoints",
    em.CreateEndpoint,
    em.EndpointInfo,
    "modelwright.endpoints.service:create_endpoint",
    "Create a real-time endpoint in an environment",
    "endpoints",
    status=201,
)
LIST_ENDPOINTS = Operation(
    "list_endpoints",
    "GET",
    f"{V1}/workspaces/{{workspace}}/endpoints",
    em.ListEndpoints,
    Page[em.EndpointInfo],
    "modelwright.endpoints.service:list_endpoints",
    "List a workspace's endpoints (optionally of one environment)",
    "endpoints",
)
GET_ENDPOINT = Operation(
    "get_endpoint",
    "GET",
    _EP,
    em.EndpointRef,
    em.EndpointInfo,
    "modelwright.endpoints.service:get_endpoint",
    "An endpoint with its deployments, traffic weights and shadow",
    "endpoints",
)
DELETE_ENDPOINT = Operation(
    "delete_endpoint",
    "DELETE",
    _EP,
    em.EndpointRef,
    em.EndpointInfo,
    "modelwright.endpoints.service:delete_endpoint",
    "Delete an endpoint and its deployments",
    "endpoints",
)
DEPLOY = Operation(
    "deploy",
    "PUT",
    f"{_EP}/deployments/{{deployment}}",
    em.Deploy,
    em.EndpointInfo,
    "modelwright.endpoints.service:deploy",
    "Deploy a model version available in the environment (or update a deployment)",
    "endpoints",
)
UNDEPLOY = Operation(
    "undeploy",
    "DELETE",
    f"{_EP}/deployments/{{deployment}}",
    em.DeploymentRef,
    em.EndpointInfo,
    "modelwright.endpoints.service:undeploy",
    "Remove a deployment that takes no traffic",
    "endpoints",
)
SET_TRAFFIC = Operation(
    "set_traffic",
    "PUT",
    f"{_EP}/traffic",
    em.SetTraffic,
    em.EndpointInfo,
    "modelwright.endpoints.service:set_traffic",
    "Set the deployments' traffic weights (summing to 100)",
    "endpoints",
)
SET_SHADOW = Operation(
    "set_shadow",
    "PUT",
    f"{_EP}/shadow",
    em.SetShadow,
    em.EndpointInfo,
    "modelwright.endpoints.service:set_shadow",
    "Mirror a share of requests to a deployment whose answers are discarded",
    "endpoints",
)
AUTHORIZE_INVOKE = Operation(
    "authorize_invoke",
    "POST",
    f"{_ENV}/endpoints-authorize",
    em.AuthorizeInvoke,
    em.InvokeDecision,
    "modelwright.endpoints.service:authorize_invoke",
    "Whether a token may invoke the environment's endpoints (asked by endpoint routers)",
    "endpoints",
)
RECORD_SERVING_STATS = Operation(
    "record_serving_stats",
    "POST",
    f"{_ENV}/serving-stats",
    sm.RecordServingStats,
    sm.StatsRecorded,
    "modelwright.endpoints.stats:record_serving_stats",
    "Record a router's counts of one interval (asked by endpoint routers; a repeat adds nothing)",
    "endpoints",
    idempotent=True,
)
GET_SERVING_STATS = Operation(
    "get_serving_stats",
    "GET",
    f"{_EP}/stats",
    sm.ServingStatsQuery,
    sm.ServingStats,
    "modelwright.endpoints.stats:serving_stats",
    "Requests, errors by class and latency per deployment in a window, from every router",
    "endpoints",
)
GET_SERVING_STATS_SERIES = Operation(
    "get_serving_stats_series",
    "GET",
    f"{_EP}/stats/series",
    sm.ServingStatsSeriesQuery,
    sm.ServingStatsSeries,
    "modelwright.endpoints.stats:serving_stats_series",
    "The same statistics per time step and deployment",
    "endpoints",
)

ENDPOINT_HISTORY = Operation(
    "endpoint_history",
    "GET",
    f"{_EP}/history",
    em.EndpointHistoryRequest,
    Page[em.EndpointChange],
    "modelwright.endpoints.history:endpoint_history",
    "Every change of the endpoint's routing, newest first; with `at`, what served then",
    "endpoints",
)

REPORT_ROUTING = Operation(
    "report_routing",
    "PUT",
    f"{_ENV}/routing/{{router}}",
    rm.ReportRouting,
    rm.RoutingRecorded,
    "modelwright.endpoints.routing:report_routing",
    "Replace a router's reported routing table (asked by endpoint routers, as a heartbeat)",
    "endpoints",
    idempotent=True,
)
GET_ENDPOINT_ROUTING = Operation(
    "get_endpoint_routing",
    "GET",
    f"{_EP}/routing",
    rm.RoutingQuery,
    rm.EndpointRouting,
    "modelwright.endpoints.routing:endpoint_routing",
    "The endpoint's recorded routing beside what each live router routes by",
    "endpoints",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
