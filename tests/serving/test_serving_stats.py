"""Serving statistics from routers to the platform: two routers on one endpoint add up to the
requests sent, by deployment and error class; a failed flush is sent again, never twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from tests.serving.conftest import AppServer

from modelwright.client import Client
from modelwright.endpoints.models import InvokeDecision
from modelwright.endpoints.stats_models import RecordServingStats
from modelwright.serving._asgi import Receive, Scope, Send
from modelwright.serving._stats import StatsRecorder, error_class
from modelwright.serving.router import (
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
)

WHERE = {"workspace": "ml", "environment": "dev"}
PATH = "/endpoints/ml/dev/churn/invocations"


async def stub_model(scope: Scope, receive: Receive, send: Send) -> None:
    """A model server that answers by the body: "bad" 400, "boom" 500, "busy" 503, else 200."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    what = json.loads(body or b"{}").get("do", "ok")
    status = {"bad": 400, "boom": 500, "busy": 503}.get(what, 200)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"predictions": [1]}'})


def _allow(require_token: bool = False) -> Authorizer:
    async def ask(token: str) -> InvokeDecision:
        ok = token == "good"
        return InvokeDecision(principal="p", allowed=ok, status=200 if ok else 403, reason="r")

    return Authorizer(ask, require_token=require_token)


class Router:
    """A RouterApp on a real server, recording to the platform through ``client``."""

    def __init__(self, client: Client, upstreams: dict[str, str]) -> None:
        self.metrics = RouterMetrics()
        self.app = RouterApp("ml", "dev", _allow(), self.metrics)
        self.recorder = StatsRecorder(
            lambda flush: asyncio.to_thread(client.record_serving_stats, flush),
            **WHERE,
            interval=60,
            registry=self.metrics.registry,
        )
        self.app.stats = self.recorder
        deployments = {n: Upstream.connect(n, u, 1 << 20) for n, u in upstreams.items()}
        # "full" sheds everything at the router's door.
        deployments["full"] = Upstream.connect("full", upstreams["blue"], 1 << 20, 0)
        self.app.update(
            {
                "churn": EndpointRoute(
                    name="churn",
                    generation=1,
                    deployments=deployments,
                    weights={"blue": 50, "green": 50},
                )
            }
        )
        self.server = AppServer(self.app).__enter__()

    def flush(self) -> bool:
        return asyncio.run(self.recorder.flush())

    def close(self) -> None:
        self.server.__exit__(None, None, None)


@pytest.fixture
def upstreams() -> Iterator[dict[str, str]]:
    servers = {name: AppServer(stub_model).__enter__() for name in ("blue", "green")}
    yield {name: s.url for name, s in servers.items()}
    for s in servers.values():
        s.__exit__(None, None, None)


@pytest.fixture
def churn(client: Client) -> Client:
    client.create_workspace("ml")
    client.create_endpoint("churn", **WHERE)
    return client


# (deployment header, what the model does, how many) sent through each router.
PLAN = {
    "a": [("blue", "ok", 20), ("blue", "bad", 3), ("green", "ok", 9), ("full", "ok", 4)],
    "b": [("blue", "ok", 11), ("blue", "boom", 2), ("green", "busy", 5), ("red", "ok", 3)],
}


def test_two_routers_on_one_endpoint_add_up_to_the_requests_sent(
    churn: Client, upstreams: dict[str, str]
) -> None:
    routers = {name: Router(churn, upstreams) for name in PLAN}
    statuses: Counter[int] = Counter()
    try:
        for name, plan in PLAN.items():
            with httpx.Client(base_url=routers[name].server.url) as http:
                for deployment, do, n in plan:
                    for _ in range(n):
                        r = http.post(
                            PATH, json={"do": do}, headers={"x-modelwright-deployment": deployment}
                        )
                        statuses[r.status_code] += 1
                # Routed by the weights, and a bad token: refused before choosing (403).
                for _ in range(6):
                    statuses[http.post(PATH, json={}).status_code] += 1
                r = http.post(PATH, json={}, headers={"authorization": "Bearer nope"})
                statuses[r.status_code] += 1
            assert routers[name].flush()
    finally:
        for router in routers.values():
            router.close()
    sent = sum(n for plan in PLAN.values() for *_, n in plan) + 2 * 7
    assert statuses == {200: 20 + 9 + 11 + 12, 400: 3, 500: 2, 503: 4 + 5, 404: 3, 403: 2}

    stats = churn.serving_stats("churn", since=timedelta(minutes=5), **WHERE)
    assert stats.total.requests == sent
    got = {
        d.deployment: (d.requests, d.errors.client, d.errors.server, d.errors.shed, d.routers)
        for d in stats.deployments
    }
    routed = got["blue"][0] + got["green"][0] - (20 + 3 + 11 + 2 + 9 + 5)
    assert routed == 12  # the requests routed by weight went to blue or green
    assert got["blue"][1:] == (3, 2, 0, 2)
    assert got["green"][1:] == (0, 0, 5, 2)
    assert got["full"] == (4, 0, 0, 4, 1)
    assert got[None] == (3 + 2, 5, 0, 0, 2)  # unknown deployment (404), bad token (403)
    total = stats.total
    assert (total.errors.client, total.errors.server, total.errors.shed) == (8, 2, 9)
    assert total.p99_ms is not None and total.p99_ms < 10_000


def test_a_failed_flush_is_sent_again_and_counted_once(churn: Client) -> None:
    calls: list[str] = []

    async def send(flush: RecordServingStats) -> None:
        outcome = script.pop(0)
        calls.append(f"{flush.seq}:{outcome}")
        if outcome == "down":
            raise httpx.ConnectError("the platform is unreachable")
        await asyncio.to_thread(churn.record_serving_stats, flush)
        if outcome == "lost":  # stored, but the answer never came back
            raise httpx.ReadTimeout("no answer")

    script = ["down", "lost", "ok", "ok"]
    recorder = StatsRecorder(send, **WHERE, interval=60)

    def count(n: int, status: int = 200) -> None:
        for _ in range(n):
            recorder.observe("churn", "blue", status, 0.004)

    count(5)
    assert not asyncio.run(recorder.flush())  # down: kept
    count(3, 500)  # counted meanwhile: waits for the next flush
    assert not asyncio.run(recorder.flush())  # seq 1 stored, answer lost: kept as it is
    assert asyncio.run(recorder.flush())  # seq 1 again (stored once), then seq 2
    assert calls == ["1:down", "1:lost", "1:ok", "2:ok"]
    assert asyncio.run(recorder.flush())  # nothing counted: nothing sent
    assert len(calls) == 4
    stats = churn.serving_stats("churn", since=timedelta(minutes=5), **WHERE)
    [blue] = stats.deployments
    assert (blue.requests, blue.errors.server, blue.routers) == (8, 3, 1)
    assert 2 < blue.p50_ms <= 5


def test_error_classes() -> None:
    assert [error_class(s) for s in (200, 302, 404, 413, 500, 503)] == [
        None,
        None,
        "client",
        "client",
        "server",
        "server",
    ]
    assert error_class(503, shed=True) == "shed"


def test_recording_never_waits_for_the_platform(upstreams: dict[str, str]) -> None:
    """A platform that hangs holds the flush, never a request."""
    hang = asyncio.Event()

    async def send(flush: RecordServingStats) -> None:
        await hang.wait()

    metrics = RouterMetrics()
    app = RouterApp("ml", "dev", _allow(), metrics)
    app.stats = StatsRecorder(send, **WHERE, interval=0.05, registry=metrics.registry)
    app.update(
        {
            "churn": EndpointRoute(
                name="churn",
                generation=1,
                deployments={"blue": Upstream.connect("blue", upstreams["blue"], 1 << 20)},
                weights={"blue": 100},
            )
        }
    )

    async def scenario() -> None:
        flusher = asyncio.get_running_loop().create_task(app.stats.run())  # type: ignore[union-attr]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://router") as http:
            for _ in range(20):
                r = await asyncio.wait_for(http.post(PATH, json={}), 5)
                assert r.status_code == 200
                await asyncio.sleep(0.01)
        flusher.cancel()
        await app._close_pools()  # what the lifespan's shutdown does

    asyncio.run(scenario())
    # The flush that hung is still held, the requests since are counted for the next one.
    stats = app.stats
    assert stats is not None and stats.pending is not None and stats.pending.seq == 1
    held = sum(r.requests for r in stats.pending.rows)
    assert held + sum(c.requests for c in stats._counts.values()) == 20
