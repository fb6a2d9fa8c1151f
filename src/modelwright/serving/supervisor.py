"""``modelwright serve``: the endpoint router plus supervised worker processes per deployment.

The supervisor keeps, for every deployment of every endpoint in one environment, a group of
worker processes sharing one listening socket (see ``worker.py``). It

* starts a group's workers and waits until they answer before routing traffic to them;
* restarts a worker that dies (with a growing delay when it keeps dying);
* polls the endpoints' ``generation`` and, when it moves, starts the groups that are new,
  swaps the router's table in one assignment, then retires the groups no longer wanted once
  their in-flight requests are done — so a change never drops a request.

A group is identified by what its workers load and how they serve (deployment, model digest,
serving config): a traffic or shadow change only swaps the table, it restarts nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from modelwright.client import Client
from modelwright.endpoints.models import EndpointInfo, InvokeDecision, ServingConfig
from modelwright.endpoints.routing_models import ReportRouting, RouteReport
from modelwright.endpoints.stats_models import RecordServingStats
from modelwright.errors import InvalidInput, PermissionDenied
from modelwright.registry.uri import model_uri
from modelwright.serving._stats import DEFAULT_STATS_INTERVAL, StatsRecorder, router_id
from modelwright.serving.router import (
    DEFAULT_BODY_TIMEOUT,
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
)
from modelwright.serving.worker import WorkerSpec

__all__ = ["GroupKey", "Supervisor", "WorkerGroup", "serve"]

log = logging.getLogger("modelwright.serving")

# A worker that died this many times in CRASH_WINDOW seconds is restarted with a delay that
# doubles each time (up to MAX_BACKOFF): a crash loop must not eat the machine.
CRASH_WINDOW = 60.0
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class GroupKey:
    endpoint: str
    deployment: str
    digest: str
    config: str
    workers: int


class WorkerGroup:
    """The worker processes of one deployment, on one listening socket."""

    def __init__(
        self,
        key: GroupKey,
        spec: WorkerSpec,
        *,
        env: dict[str, str],
        metrics: RouterMetrics,
    ) -> None:
        self.key = key
        self.metrics = metrics
        self.env = env
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.sock.set_inheritable(True)
        self.port: int = self.sock.getsockname()[1]
        self.spec = spec.model_copy(update={"fd": self.sock.fileno()})
        # The router lets in as many requests as the workers' queues hold together; more
        # would only be shed by a worker, after a hop.
        self.upstream = Upstream.connect(
            key.deployment,
            f"http://127.0.0.1:{self.port}",
            spec.config.max_body_bytes,
            max_in_flight=spec.config.max_queue * key.workers,
        )
        self.upstream.live_workers = lambda: len(self.pids())
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * key.workers
        self.crashes: deque[float] = deque()
        self.restart_at: list[float] = [0.0] * key.workers
        self.state = "starting"
        self.failure = ""

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 -- our own interpreter and module
            [sys.executable, "-m", "modelwright.serving.worker", self.spec.model_dump_json()],
            pass_fds=(self.sock.fileno(),),
            env=self.env,
        )

    def start(self) -> None:
        self.procs = [self._spawn() for _ in self.procs]
        self._gauge()

    def _gauge(self) -> None:
        alive = sum(1 for p in self.procs if p is not None and p.poll() is None)
        self.metrics.workers.labels(self.key.endpoint, self.key.deployment).set(alive)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p is not None and p.poll() is None]

    async def wait_ready(self, timeout: float) -> bool:
        """True once a worker answers; False if every worker exited first, or on timeout."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.upstream.url, timeout=1.0) as probe:
            while time.monotonic() < deadline:
                codes = [p.poll() for p in self.procs if p is not None]
                if codes and all(code is not None for code in codes):
                    self.state = "failed"
                    self.failure = f"every worker exited while starting (exit codes {codes})"
                    return False
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/v2/health/ready")).status_code == 200:
                        self.state = "ready"
                        return True
                await asyncio.sleep(0.1)
        self.state = "failed"
        self.failure = f"no worker answered within {timeout:.0f} s"
        return False

    def supervise(self) -> None:
        """Restart workers that died (called every half second)."""
        if self.state == "stopping":
            return
        now = time.monotonic()
        for i, proc in enumerate(self.procs):
            if proc is None:
                if now >= self.restart_at[i]:
                    self.procs[i] = self._spawn()
                    self.metrics.restarts.labels(self.key.endpoint, self.key.deployment).inc()
                continue
            code = proc.poll()
            if code is None:
                continue
            self.crashes.append(now)
            while self.crashes and self.crashes[0] < now - CRASH_WINDOW:
                self.crashes.popleft()
            delay = (
                0.0 if len(self.crashes) <= 2 else min(MAX_BACKOFF, 0.25 * 2 ** len(self.crashes))
            )
            log.warning(
                "endpoint %s, deployment %s: worker %d exited with code %s; restarting%s",
                self.key.endpoint,
                self.key.deployment,
                proc.pid,
                code,
                f" in {delay:.1f} s" if delay else "",
            )
            self.procs[i] = None
            self.restart_at[i] = now + delay
        self._gauge()

    async def stop(self, drain_timeout: float = 30.0) -> None:
        """Wait for in-flight requests (the router no longer sends new ones), then stop."""
        self.state = "stopping"
        deadline = time.monotonic() + drain_timeout
        while self.upstream.in_flight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        procs = [p for p in self.procs if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        end = time.monotonic() + 30.0
        for proc in procs:
            while proc.poll() is None and time.monotonic() < end:
                await asyncio.sleep(0.05)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.metrics.workers.labels(self.key.endpoint, self.key.deployment).set(0)
        await self.upstream.close()
        self.sock.close()


class Supervisor:
    """Keeps the worker groups and the router's table in line with the endpoint metadata."""

    def __init__(
        self,
        client: Client,
        router: RouterApp,
        metrics: RouterMetrics,
        *,
        workspace: str,
        environment: str,
        workers: int | None = None,
        ready_timeout: float = 120.0,
        env: dict[str, str] | None = None,
        say: Callable[[str], None] = print,
        name: str | None = None,
        report_interval: float = DEFAULT_STATS_INTERVAL,
    ) -> None:
        self.client = client
        self.name = name or router_id()
        self.report_interval = report_interval
        self._report_failing = False
        self.router = router
        self.metrics = metrics
        self.workspace = workspace
        self.environment = environment
        self.workers = workers
        self.ready_timeout = ready_timeout
        self.env = {**os.environ, **(env or {})}
        self.say = say
        self.groups: dict[GroupKey, WorkerGroup] = {}
        self.applied: dict[str, int] | None = None
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # The client is synchronous; keep the event loop (and the router) free meanwhile.
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def authorize(self, token: str) -> InvokeDecision:
        try:
            decision: InvokeDecision = await self._call(
                self.client.authorize_invoke,
                token,
                workspace=self.workspace,
                environment=self.environment,
            )
        except PermissionDenied as exc:
            # This router's own identity lost the right to check tokens: the caller is not
            # at fault, and the router cannot serve anyone until an admin restores it.
            return InvokeDecision(principal="", allowed=False, status=503, reason=exc.message)
        return decision

    def _capture_url(self) -> str | None:
        info = self.client.get_workspace(self.workspace)
        for env in info.environments:
            if env.name == self.environment and env.datastores:
                return env.datastores[0].url
        return None

    async def sync(self) -> None:
        """Apply the endpoint metadata if any endpoint's generation moved."""
        endpoints: list[EndpointInfo] = await self._call(
            self.client.list_endpoints, workspace=self.workspace, environment=self.environment
        )
        current = {ep.name: ep.generation for ep in endpoints}
        if current == self.applied:
            return
        async with self._lock:
            await self._apply(endpoints)
            self.applied = current
        await self.report_routing()

    def routing_table(self) -> ReportRouting:
        """What this router routes by now: per endpoint, its generation, weights and the
        deployments a request can reach (a live worker)."""
        return ReportRouting(
            workspace=self.workspace,
            environment=self.environment,
            router=self.name,
            interval=self.report_interval,
            endpoints=[
                RouteReport(
                    endpoint=name,
                    generation=route.generation,
                    weights=dict(route.weights),
                    ready=sorted(d for d, up in route.deployments.items() if up.alive()),
                )
                for name, route in sorted(self.router.routes.items())
            ],
        )

    async def report_routing(self) -> None:
        """Tell the platform what this router routes by, so a rollout can check the live
        routing against the record. A failure is logged once and retried by the heartbeat."""
        try:
            await self._call(self.client.report_routing, self.routing_table())
        except Exception as exc:
            if not self._report_failing:
                log.warning("router: could not report its routing (retried): %s", exc)
            self._report_failing = True
        else:
            self._report_failing = False

    def _key(self, ep: EndpointInfo, name: str, digest: str, config: ServingConfig) -> GroupKey:
        workers = self.workers or config.workers
        return GroupKey(ep.name, name, digest, config.model_dump_json(), workers)

    async def _apply(self, endpoints: list[EndpointInfo]) -> None:
        capture_url = await self._call(self._capture_url)
        wanted: dict[GroupKey, WorkerSpec] = {}
        for ep in endpoints:
            for d in ep.deployments:
                key = self._key(ep, d.name, d.digest, d.config)
                wanted[key] = WorkerSpec(
                    fd=-1,
                    workspace=self.workspace,
                    environment=self.environment,
                    endpoint=ep.name,
                    deployment=d.name,
                    model_uri=model_uri(d.model, d.version),
                    version=d.version,
                    digest=d.digest,
                    config=d.config,
                    capture_url=capture_url,
                )
        new = [
            WorkerGroup(key, spec, env=self.env, metrics=self.metrics)
            for key, spec in wanted.items()
            if key not in self.groups or self.groups[key].state == "failed"
        ]
        for group in new:
            stale = self.groups.get(group.key)
            if stale is not None:
                await stale.stop(drain_timeout=0)
            group.start()
            self.groups[group.key] = group
            self.say(
                f"starting {group.key.endpoint}/{group.key.deployment}: "
                f"{group.key.workers} worker(s) on port {group.port}"
            )
        results = await asyncio.gather(*(g.wait_ready(self.ready_timeout) for g in new))
        for group, ok in zip(new, results, strict=True):
            if ok:
                self.say(f"ready {group.key.endpoint}/{group.key.deployment}")
            else:
                self.say(
                    f"error: {group.key.endpoint}/{group.key.deployment} did not start: "
                    f"{group.failure}; it takes no traffic until it is deployed again"
                )
        routes: dict[str, EndpointRoute] = {}
        for ep in endpoints:
            upstreams = {}
            for d in ep.deployments:
                group = self.groups[self._key(ep, d.name, d.digest, d.config)]
                if group.state == "ready":
                    upstreams[d.name] = group.upstream
            routes[ep.name] = EndpointRoute(
                name=ep.name,
                generation=ep.generation,
                deployments=upstreams,
                weights={d.name: d.weight for d in ep.deployments},
                shadow=ep.shadow,
                shadow_percent=ep.shadow_percent,
            )
        self.router.update(routes)
        for key in [k for k in self.groups if k not in wanted]:
            group = self.groups.pop(key)
            self.say(f"retiring {key.endpoint}/{key.deployment}")
            task = asyncio.get_running_loop().create_task(group.stop())
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    def status(self) -> dict[str, Any]:
        return {
            f"{k.endpoint}/{k.deployment}": {
                "state": g.state,
                "port": g.port,
                "pids": g.pids(),
                "in_flight": g.upstream.in_flight,
            }
            for k, g in self.groups.items()
        }

    async def watch(self, poll_interval: float) -> None:
        """Restart dead workers and apply endpoint changes, until cancelled. Two loops, so a
        deployment that takes long to start never delays restarting another's workers."""

        async def restart_dead() -> None:
            while True:
                for group in list(self.groups.values()):
                    group.supervise()
                await asyncio.sleep(0.5)

        async def follow_changes() -> None:
            while True:
                await asyncio.sleep(poll_interval)
                try:
                    await self.sync()
                except Exception as exc:  # the platform may be briefly unreachable: keep serving
                    log.warning("could not read the endpoints: %s", exc)

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.report_interval)
                await self.report_routing()

        await asyncio.gather(restart_dead(), follow_changes(), heartbeat())

    async def shutdown(self) -> None:
        groups = list(self.groups.values())
        self.groups.clear()
        await asyncio.gather(*(g.stop() for g in groups), *self._retiring)


class _RouterServer(uvicorn.Server):
    """uvicorn re-raises the signal it caught once it has stopped, which would kill the
    process before the workers are stopped; the supervisor handles signals itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve(
    client: Client,
    *,
    workspace: str,
    environment: str,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int | None = None,
    poll_interval: float = 2.0,
    ready_timeout: float = 120.0,
    require_token: bool = False,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
    stats_interval: float = DEFAULT_STATS_INTERVAL,
    env: dict[str, str] | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Run the router and the workers of every endpoint of ``workspace``/``environment``
    until SIGINT or SIGTERM; then stop taking requests, finish those in flight, stop workers."""
    # uvloop, as uvicorn picks when it runs an app itself: on the standard asyncio loop each
    # response waited ~40 ms for a delayed ACK (headers and body leave in two writes).
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(
            _serve(
                client,
                workspace=workspace,
                environment=environment,
                host=host,
                port=port,
                workers=workers,
                poll_interval=poll_interval,
                ready_timeout=ready_timeout,
                require_token=require_token,
                body_timeout=body_timeout,
                stats_interval=stats_interval,
                env=env,
                say=say,
            )
        )


async def _serve(
    client: Client,
    *,
    workspace: str,
    environment: str,
    host: str,
    port: int,
    workers: int | None,
    poll_interval: float,
    ready_timeout: float,
    require_token: bool,
    body_timeout: float,
    stats_interval: float,
    env: dict[str, str] | None,
    say: Callable[[str], None],
) -> None:
    # Listen first: a port already taken is the caller's mistake, said before any worker starts.
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise InvalidInput(
            f"--port: cannot listen on {host}:{port}: {exc.strerror}",
            details={"field": "port"},
        ) from None
    listener.listen(2048)
    metrics = RouterMetrics()
    supervisor: Supervisor

    async def ask(token: str) -> InvokeDecision:
        return await supervisor.authorize(token)

    router = RouterApp(
        workspace,
        environment,
        Authorizer(ask, require_token=require_token),
        metrics,
        body_timeout=body_timeout,
    )
    supervisor = Supervisor(
        client,
        router,
        metrics,
        workspace=workspace,
        environment=environment,
        workers=workers,
        ready_timeout=ready_timeout,
        env=env,
        say=say,
        report_interval=stats_interval,
    )
    router.status = supervisor.status

    async def record(flush: RecordServingStats) -> None:
        await asyncio.to_thread(client.record_serving_stats, flush)

    # Each router writes its counts to the platform, where those of every router add up.
    stats = router.stats = StatsRecorder(
        record,
        workspace=workspace,
        environment=environment,
        interval=stats_interval,
        registry=metrics.registry,
        router=supervisor.name,
    )
    server = _RouterServer(
        uvicorn.Config(
            router, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    try:
        await supervisor.sync()
        watcher = loop.create_task(supervisor.watch(poll_interval))
        flusher = loop.create_task(stats.run())
        say(
            f"router on http://{host}:{port}/endpoints/{workspace}/{environment}/<endpoint>/"
            f"invocations ({len(router.routes)} endpoint(s); Ctrl-C stops)"
        )
        await server.serve(sockets=[listener])
        for task in (watcher, flusher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        say("stopping workers")
        await supervisor.shutdown()
        await stats.close()
