"""The endpoint router: one ASGI app in front of every deployment of an environment.

    POST /endpoints/{workspace}/{environment}/{endpoint}/invocations
    POST /endpoints/{workspace}/{environment}/{endpoint}/v2/models/{endpoint}/infer   (and the
         rest of the Open Inference Protocol under .../v2)

A request goes to one live deployment, picked at random by the traffic weights, or to the
deployment named in the ``x-modelwright-deployment`` header. When the endpoint has a shadow,
a copy of the set share of requests is sent to it in the background; its answer is discarded
(the shadow's model server captures it) and neither its latency nor its failures reach the
caller. The routing table is replaced whole by the supervisor (``update``), so a request
sees either the old table or the new one, and requests in flight on a deployment being
retired finish before its workers are stopped (``Upstream.in_flight``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from yarl import URL

from modelwright.core.bearer import bearer_token
from modelwright.endpoints.models import InvokeDecision
from modelwright.serving._asgi import (
    BodyTooLarge,
    Message,
    Receive,
    Scope,
    Send,
    header,
    lifespan,
    read_body,
    send_bytes,
)
from modelwright.serving._errors import error_body, protocol_of
from modelwright.serving._paths import BadPath, model_server_route, segments
from modelwright.serving._stats import StatsRecorder
from modelwright.serving.app import REQUEST_ID_HEADER, SHADOW_HEADER

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEPLOYMENT_HEADER",
    "Authorizer",
    "EndpointRoute",
    "RouterApp",
    "RouterMetrics",
    "Upstream",
]

DEPLOYMENT_HEADER = b"x-modelwright-deployment"
# Mirrored requests outstanding at once; beyond this a copy is dropped (and counted) so that a
# slow shadow can never hold memory or sockets the live traffic needs.
MAX_SHADOW_IN_FLIGHT = 64
# A caller has this long to send its whole body once its headers are in; a client that
# declares a length and sends nothing must not hold a connection and a slot for ever.
DEFAULT_BODY_TIMEOUT = 30.0
# A shed request's body up to this size is read and dropped, which keeps its connection.
_SMALL_BODY = 64 * 1024
# Triton's binary data extension: the length of the JSON before the binary tensors, both ways.
_HEADER_LENGTH = b"inference-header-content-length"
_FORWARDED = (b"content-type", b"accept", REQUEST_ID_HEADER, _HEADER_LENGTH)
_PLAIN_PATH = re.compile(r"(/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)+")
# Visible ASCII (a request id a caller sends along is checked like a token).
_TOKEN = re.compile(r"[\x21-\x7e]+")

log = logging.getLogger("modelwright.serving")


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    content: bytes
    content_type: str
    retry_after: str | None
    header_length: str | None = None


class UpstreamUnavailable(Exception):
    def __init__(self, reason: str, *, timeout: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.timeout = reason, timeout


@dataclass(eq=False)
class Upstream:
    """The workers of one deployment, as the router reaches them (one listening port).

    The client is aiohttp's: forwarding is the router's whole job, and measured on loopback
    aiohttp's client answered an order of magnitude more requests per second than httpx's
    asynchronous one for the same small bodies. Every request goes to this origin: the URL is
    built from it and a checked path, never joined from what the caller sent."""

    deployment: str
    url: str
    max_body_bytes: int
    # Requests the router lets in at once (its workers' queues together); beyond it a request
    # is answered 503 at the router's door, without touching the workers. None: no limit.
    max_in_flight: int | None = None
    in_flight: int = 0
    # Set by the supervisor: how many worker processes are alive (None: not supervised).
    live_workers: Callable[[], int] | None = field(default=None, repr=False)
    _origin: URL = field(init=False, repr=False)
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        origin = URL(self.url)
        if origin.scheme != "http" or not origin.host or origin.port is None:
            raise ValueError(f"upstream url: expected http://host:port, got {self.url!r}")
        self._origin = origin.origin()

    @classmethod
    def connect(
        cls, deployment: str, url: str, max_body_bytes: int, max_in_flight: int | None = None
    ) -> Upstream:
        return cls(
            deployment=deployment,
            url=url,
            max_body_bytes=max_body_bytes,
            max_in_flight=max_in_flight,
        )

    def admit(self) -> bool:
        """Count a request in, unless the deployment is at its limit (then the caller sheds)."""
        if self.max_in_flight is not None and self.in_flight >= self.max_in_flight:
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight -= 1

    def alive(self) -> bool:
        return self.live_workers is None or self.live_workers() > 0

    def target(self, path: str) -> URL:
        """This upstream's URL for ``path``, one of the router's checked paths."""
        if not _PLAIN_PATH.fullmatch(path):
            raise ValueError(f"upstream path: {path!r} is not a plain absolute path")
        url = self._origin.with_path(path, encoded=True)
        if url.origin() != self._origin:  # defence in depth: the origin is fixed
            raise ValueError(f"upstream path: {path!r} leaves {self._origin}")
        return url

    async def request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> UpstreamResponse:
        url = self.target(path)
        if self._session is None:
            # Made on first use: a session belongs to the event loop it is made in.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=max(256, self.max_in_flight or 0)),
                timeout=aiohttp.ClientTimeout(total=60, sock_connect=5),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        for attempt in range(2):
            try:
                async with self._session.request(
                    method, url, data=body, headers=headers, allow_redirects=False
                ) as r:
                    return UpstreamResponse(
                        r.status,
                        await r.read(),
                        r.headers.get("content-type", "application/json"),
                        r.headers.get("retry-after"),
                        r.headers.get(_HEADER_LENGTH.decode()),
                    )
            except TimeoutError:
                raise UpstreamUnavailable("no answer in time", timeout=True) from None
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # The connection died under the request: a kept-alive connection to a worker
                # that was killed (and restarted on the same socket), or the worker died with
                # it. A prediction has no effect to repeat, so it is sent once more, on a new
                # connection, as a proxy's "next upstream on error" would.
                if attempt:
                    raise UpstreamUnavailable(type(exc).__name__) from None
            except aiohttp.ClientError as exc:
                raise UpstreamUnavailable(type(exc).__name__) from None
        raise AssertionError("unreachable")  # the loop returns or raises

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@dataclass(frozen=True)
class EndpointRoute:
    """One endpoint's routing: who takes live traffic, by which weights, and the shadow."""

    name: str
    generation: int
    deployments: dict[str, Upstream]
    weights: dict[str, int]
    shadow: str | None = None
    shadow_percent: int = 0
    _live: tuple[list[str], list[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        live = [(d, w) for d, w in self.weights.items() if w > 0 and d in self.deployments]
        object.__setattr__(self, "_live", ([d for d, _ in live], [w for _, w in live]))

    def pick(self) -> str | None:
        names, weights = self._live
        if not names:
            return None
        if len(names) == 1:
            return names[0]
        return random.choices(names, weights)[0]  # noqa: S311 -- traffic split, not secrets

    def mirror(self) -> bool:
        if self.shadow is None or self.shadow not in self.deployments:
            return False
        return self.shadow_percent >= 100 or random.random() * 100 < self.shadow_percent  # noqa: S311


class RouterMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "modelwright_router_requests",
            "Requests by endpoint, deployment and HTTP status.",
            ["endpoint", "deployment", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "modelwright_router_request_seconds",
            "Latency seen by callers, by endpoint.",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
        )
        self.shadow = Counter(
            "modelwright_router_shadow_requests",
            "Mirrored requests by outcome: sent, failed (error or 5xx), dropped (too many "
            "outstanding).",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.restarts = Counter(
            "modelwright_router_worker_restarts",
            "Worker processes restarted after they died.",
            ["endpoint", "deployment"],
            registry=self.registry,
        )
        self.workers = Gauge(
            "modelwright_router_workers",
            "Worker processes running, by endpoint and deployment.",
            ["endpoint", "deployment"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class Authorizer:
    """Decides whether a caller may invoke, caching answers briefly.

    The answer for a token is asked of the platform (``authorize_invoke``) and kept for ``ttl``
    seconds, so a revoked token stops working within that time without costing a database
    round trip on every request. Without a token, callers are let in only when the platform
    does not require authentication (the embedded default, on one machine).
    """

    def __init__(
        self,
        ask: Callable[[str], Awaitable[InvokeDecision]],
        *,
        require_token: bool,
        ttl: float = 5.0,
    ) -> None:
        self._ask = ask
        self.require_token = require_token
        self.ttl = ttl
        self._cache: dict[str, tuple[float, InvokeDecision]] = {}

    async def decide(self, authorization: str | None) -> InvokeDecision:
        if authorization is None:
            if self.require_token:
                return InvokeDecision(
                    principal="",
                    allowed=False,
                    status=401,
                    reason="missing token: send 'Authorization: Bearer <token>'",
                )
            return InvokeDecision(principal="", allowed=True, status=200, reason="local")
        try:
            secret = bearer_token(authorization)
        except ValueError as exc:
            return InvokeDecision(
                principal="",
                allowed=False,
                status=401,
                reason=f"malformed Authorization header: {exc}; expected 'Bearer <token>'",
            )
        key = hashlib.sha256(secret.encode()).hexdigest()
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        decision = await self._ask(secret)
        if len(self._cache) > 10_000:  # bounded: a flood of bad tokens cannot grow it forever
            self._cache.clear()
        self._cache[key] = (now + self.ttl, decision)
        return decision


class _Refused(Exception):
    """A request the router answers itself (not found, unauthorised, unavailable, …)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        endpoint: str = "",
        *,
        close: bool = False,
        shed: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.endpoint = status, code, message, endpoint
        # Close the connection after answering: the request's body was not read (in full).
        self.close = close
        self.shed = shed  # refused for a full deployment (counted apart from errors)


def _request_id(scope: Scope) -> str:
    """The caller's ``x-request-id`` when it is a sane one (it is forwarded, logged and
    captured), else a new one."""
    given = header(scope, REQUEST_ID_HEADER)
    if given is not None and 0 < len(given) <= 128 and _TOKEN.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RouterApp:
    """The ASGI app of the router for the endpoints of one workspace environment."""

    def __init__(
        self,
        workspace: str,
        environment: str,
        authorizer: Authorizer,
        metrics: RouterMetrics,
        *,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        if not body_timeout > 0:
            raise ValueError(f"body_timeout: must be more than 0 seconds, got {body_timeout}")
        self.body_timeout = body_timeout
        self.workspace = workspace
        self.environment = environment
        self.authorizer = authorizer
        self.metrics = metrics
        self.routes: dict[str, EndpointRoute] = {}
        self._prefix = f"/endpoints/{workspace}/{environment}/"
        self._shadow_in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        # Set by the supervisor: the state of its worker groups, shown on /healthz.
        self.status: Callable[[], dict[str, Any]] | None = None
        self._pools: set[Upstream] = set()
        # Set by the supervisor: serving statistics flushed to the platform.
        self.stats: StatsRecorder | None = None

    def update(self, routes: dict[str, EndpointRoute]) -> None:
        """Swap the whole routing table (requests already routed keep their upstream)."""
        self.routes = routes
        for route in routes.values():
            self._pools.update(route.deployments.values())

    async def _close_pools(self) -> None:
        # Connection pools belong to the event loop that used them: close them before it ends.
        for upstream in self._pools:
            await upstream.close()
        self._pools.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, on_shutdown=self._close_pools)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path in ("/healthz", "/ping"):
            await send_bytes(send, 200, orjson.dumps(self._health()))
            return
        if path == "/metrics":
            await send_bytes(
                send, 200, self.metrics.exposition(), content_type=CONTENT_TYPE_LATEST.encode()
            )
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._endpoint(scope, receive, tracked)
        except Exception:
            # A bug must still answer in JSON, never with the server's plain-text 500.
            log.exception("router: unexpected error on %s %s", scope["method"], path)
            if not started:
                message = "the router failed on this request; see its log"
                body = error_body(500, "internal", message, protocol_of(path))
                await send_bytes(send, 500, orjson.dumps(body))

    def _health(self) -> dict[str, Any]:
        endpoints = {}
        for name, route in sorted(self.routes.items()):
            alive = {d: upstream.alive() for d, upstream in route.deployments.items()}
            taking = [d for d in route.deployments if route.weights.get(d, 0) > 0]
            endpoints[name] = {
                "generation": route.generation,
                "deployments": {d: route.weights.get(d, 0) for d in route.deployments},
                "shadow": route.shadow,
                # Ready: a deployment taking traffic has a live worker to answer it.
                "ready": any(alive[d] for d in taking),
                "not_ready": sorted(d for d, ok in alive.items() if not ok),
            }
        ready = all(e["ready"] for e in endpoints.values())
        return {
            "status": "ok" if ready else "degraded",
            "ready": ready,
            "workspace": self.workspace,
            "environment": self.environment,
            "endpoints": endpoints,
            "workers": self.status() if self.status is not None else {},
        }

    async def _endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        raw_path = scope.get("raw_path") or scope["path"].encode()
        protocol = protocol_of(scope["path"])
        request_id = _request_id(scope)
        reply_headers = [(REQUEST_ID_HEADER, request_id.encode())]
        chosen = ""  # the deployment, once one is chosen: statistics are counted for it
        try:
            name, path = self._match(raw_path)
            route, chosen, targeted = await self._choose(scope, name)
            upstream = route.deployments[chosen]
            self._check_length(scope, upstream, route.name)
            if not upstream.admit():
                kept = await self._discard_small_body(scope, receive)
                raise _Refused(
                    503,
                    "unavailable",
                    f"deployment '{chosen}' is at its limit of {upstream.max_in_flight} "
                    "requests in flight; retry shortly",
                    route.name,
                    close=not kept,
                    shed=True,
                )
            try:
                body = await self._read_body(receive, upstream, route.name)
                response = await self._forward(
                    scope, route, chosen, path, targeted=targeted, body=body, request_id=request_id
                )
            finally:
                upstream.release()
        except _Refused as refused:
            extra = [(b"retry-after", b"1")] if refused.status == 503 else []
            if refused.close:
                extra.append((b"connection", b"close"))
            error = error_body(refused.status, refused.code, refused.message, protocol)
            if self.stats is not None and refused.endpoint:
                self.stats.observe(
                    refused.endpoint,
                    chosen,
                    refused.status,
                    time.perf_counter() - started,
                    shed=refused.shed,
                )
            await send_bytes(
                send, refused.status, orjson.dumps(error), headers=reply_headers + extra
            )
            self.metrics.requests.labels(refused.endpoint, "", str(refused.status)).inc()
            return
        out = [*reply_headers, (DEPLOYMENT_HEADER, chosen.encode())]
        if response.retry_after is not None:
            out.append((b"retry-after", response.retry_after.encode()))
        if response.header_length is not None:
            out.append((_HEADER_LENGTH, response.header_length.encode()))
        if self.stats is not None:
            # Counted before the answer leaves: a caller that has it finds it counted. A 503
            # from the workers is their full queue (the model server's only 503).
            self.stats.observe(
                route.name,
                chosen,
                response.status,
                time.perf_counter() - started,
                shed=response.status == 503,
            )
        await send_bytes(
            send,
            response.status,
            response.content,
            content_type=response.content_type.encode(),
            headers=out,
        )
        self.metrics.requests.labels(route.name, chosen, str(response.status)).inc()
        self.metrics.latency.labels(route.name).observe(time.perf_counter() - started)

    async def _discard_small_body(self, scope: Scope, receive: Receive) -> bool:
        """Read and drop a shed request's body when it is small, so that its connection can
        be kept (a reconnection costs the caller more than the read); False: the connection
        must be closed, the body is still unread."""
        length = header(scope, b"content-length")
        if length is None:
            return header(scope, b"transfer-encoding") is None  # no body at all
        if not length.isdigit() or int(length) > _SMALL_BODY:
            return False
        try:
            await asyncio.wait_for(read_body(receive, _SMALL_BODY), self.body_timeout)
        except (BodyTooLarge, TimeoutError):
            return False
        return True

    @staticmethod
    def _check_length(scope: Scope, upstream: Upstream, endpoint: str) -> None:
        """A declared body over the limit is refused before a byte of it is read."""
        length = header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > upstream.max_body_bytes:
            raise _Refused(
                413,
                "too_large",
                f"body: {int(length)} bytes, larger than the limit of "
                f"{upstream.max_body_bytes} bytes",
                endpoint,
                close=True,
            )

    async def _read_body(self, receive: Receive, upstream: Upstream, endpoint: str) -> bytes:
        try:
            return await asyncio.wait_for(
                read_body(receive, upstream.max_body_bytes), self.body_timeout
            )
        except BodyTooLarge:
            limit = upstream.max_body_bytes
            raise _Refused(
                413,
                "too_large",
                f"body: larger than the limit of {limit} bytes",
                endpoint,
                close=True,
            ) from None
        except TimeoutError:
            raise _Refused(
                408,
                "timeout",
                f"body: not received in full within {self.body_timeout:g} s",
                endpoint,
                close=True,
            ) from None

    def _match(self, raw_path: bytes) -> tuple[str, str]:
        """(the endpoint named by the path, the model server's path to forward to)."""
        try:
            parts = segments(raw_path)
        except BadPath as exc:
            raise _Refused(400, "invalid_input", exc.message) from None
        served = f"{self._prefix}<endpoint>/invocations and {self._prefix}<endpoint>/v2/..."
        if parts[:3] != ["endpoints", self.workspace, self.environment] or len(parts) < 5:
            shown = "/" + "/".join(parts)
            raise _Refused(404, "not_found", f"no route {shown[:200]}: this router serves {served}")
        name, tail = parts[3], parts[4:]
        if not model_server_route(tail):
            shown = "/".join(tail)
            raise _Refused(
                404,
                "not_found",
                f"no route '{shown[:200]}' under endpoint '{name}': {served}",
                name if name in self.routes else "",  # metric labels only of real endpoints
            )
        return name, "/" + "/".join(tail)

    async def _choose(self, scope: Scope, name: str) -> tuple[EndpointRoute, str, bool]:
        """(the endpoint's route, the deployment to ask, whether the caller named it)."""
        route = self.routes.get(name)
        if route is None:
            known = ", ".join(sorted(self.routes)) or "none"
            raise _Refused(
                404,
                "not_found",
                f"endpoint '{name}' not found in {self.workspace}/{self.environment} "
                f"(endpoints served here: {known})",
            )
        try:
            decision = await self.authorizer.decide(header(scope, b"authorization"))
        except Exception as exc:
            log.warning("router: could not check a token: %s", exc)
            raise _Refused(
                503,
                "unavailable",
                f"the token could not be checked ({type(exc).__name__}); retry shortly",
                name,
            ) from None
        if not decision.allowed:
            code = "unauthenticated" if decision.status == 401 else "permission_denied"
            raise _Refused(decision.status, code, decision.reason, name)
        target = header(scope, DEPLOYMENT_HEADER)
        if target is not None:
            if target not in route.deployments:
                raise _Refused(
                    404,
                    "not_found",
                    f"{DEPLOYMENT_HEADER.decode()}: endpoint '{name}' has no running deployment "
                    f"{target[:100]!r} (running: {', '.join(sorted(route.deployments)) or 'none'})",
                    name,
                )
            return route, target, True
        chosen = route.pick()
        if chosen is None:
            raise _Refused(
                503, "unavailable", f"endpoint '{name}' has no deployment taking traffic", name
            )
        return route, chosen, False

    async def _forward(
        self,
        scope: Scope,
        route: EndpointRoute,
        chosen: str,
        url: str,
        *,
        targeted: bool,
        body: bytes,
        request_id: str,
    ) -> UpstreamResponse:
        # The query string is not forwarded: no route of the model server reads one.
        headers = {k.decode(): v for k in _FORWARDED if (v := header(scope, k)) is not None}
        headers[REQUEST_ID_HEADER.decode()] = request_id
        method: str = scope["method"]
        if not targeted and route.mirror():
            self._mirror(route, method, url, headers, body)
        upstream = route.deployments[chosen]
        try:
            return await upstream.request(method, url, body, headers)
        except UpstreamUnavailable as exc:
            if exc.timeout:
                raise _Refused(
                    504, "timeout", f"deployment '{chosen}' did not answer in time", route.name
                ) from None
            raise _Refused(
                503,
                "unavailable",
                f"deployment '{chosen}' is unavailable ({exc.reason}); retry shortly",
                route.name,
            ) from None

    def _mirror(
        self, route: EndpointRoute, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> None:
        if route.shadow is None:  # the endpoint's shadow was removed meanwhile
            return
        if self._shadow_in_flight >= MAX_SHADOW_IN_FLIGHT:
            self.metrics.shadow.labels(route.name, "dropped").inc()
            return
        upstream = route.deployments[route.shadow]
        if not upstream.admit():
            self.metrics.shadow.labels(route.name, "dropped").inc()
            return
        self._shadow_in_flight += 1

        async def send_copy() -> None:
            outcome = "sent"
            try:
                response = await upstream.request(
                    method, url, body, {**headers, SHADOW_HEADER.decode(): "1"}
                )
                if response.status >= 500:
                    outcome = "failed"
            except UpstreamUnavailable:
                outcome = "failed"
            finally:
                self._shadow_in_flight -= 1
                upstream.release()
            self.metrics.shadow.labels(route.name, outcome).inc()

        task = asyncio.get_running_loop().create_task(send_copy())
        # Keep a reference until done: the event loop holds tasks only weakly.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
