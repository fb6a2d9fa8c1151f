"""The router protects itself and its workers: bodies have a deadline, a declared body over
the limit is refused unread, overload is shed at the router's door, and /healthz says when
an endpoint has no live worker."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
from tests.serving.conftest import AppServer, raw_request

from modelwright.endpoints.models import InvokeDecision
from modelwright.serving.router import (
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
)

PATH = "/endpoints/ml/dev/churn/invocations"
ANSWER = b'{"predictions": [1]}'


class HeldUpstream:
    """A bare HTTP upstream that counts the requests it receives and answers each only once
    ``release`` is called."""

    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        self._release = asyncio.Event()
        started = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(started,), daemon=True)
        self.thread.start()
        assert started.wait(10)

    def _run(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port: int = self.server.sockets[0].getsockname()[1]
        started.set()
        self.loop.run_forever()
        tasks = asyncio.all_tasks(self.loop)
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.run_until_complete(self.server.wait_closed())
        self.loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                self.requests += 1
                await self._release.wait()
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        self.loop.call_soon_threadsafe(self._release.set)

    def wait_for(self, requests: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while self.requests < requests:
            if time.monotonic() > deadline:
                raise AssertionError(f"upstream saw {self.requests} requests, not {requests}")
            time.sleep(0.01)

    def close(self) -> None:
        self.release()
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def _allow(token: str) -> InvokeDecision:
    return InvokeDecision(principal="p", allowed=True, status=200, reason="granted")


@pytest.fixture
def upstream() -> Iterator[HeldUpstream]:
    held = HeldUpstream()
    yield held
    held.close()


def _router(upstream: Upstream, *, body_timeout: float = 60.0) -> RouterApp:
    app = RouterApp(
        "ml",
        "dev",
        Authorizer(_allow, require_token=False),
        RouterMetrics(),
        body_timeout=body_timeout,
    )
    app.update(
        {
            "churn": EndpointRoute(
                name="churn", generation=1, deployments={"blue": upstream}, weights={"blue": 100}
            )
        }
    )
    return app


def _headers_only(length: int) -> bytes:
    return (
        b"POST " + PATH.encode() + b" HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n" % length
    )


def test_a_body_that_never_comes_is_dropped_in_bounded_time(upstream: HeldUpstream) -> None:
    app = _router(Upstream.connect("blue", upstream.url, 1 << 20), body_timeout=0.5)
    with AppServer(app) as srv:
        # raw_request reads until the router closes the connection (30 s socket timeout).
        status, headers, body = raw_request(srv.port, _headers_only(100) + b'{"dataframe')
    assert status == 408 and headers["connection"] == "close"
    assert orjson.loads(body) == {
        "error_code": "BAD_REQUEST",
        "message": "body: not received in full within 0.5 s",
    }
    assert upstream.connections == 0


def test_a_declared_body_over_the_limit_is_refused_unread(upstream: HeldUpstream) -> None:
    # With an hour to send its body, only a refusal made without reading it can come back
    # before raw_request's 30 s socket timeout.
    app = _router(Upstream.connect("blue", upstream.url, 1024), body_timeout=3600)
    with AppServer(app) as srv:
        status, headers, body = raw_request(srv.port, _headers_only(10_000_000))
    assert status == 413 and headers["connection"] == "close"
    assert "body: 10000000 bytes, larger than the limit of 1024 bytes" in body.decode()
    assert upstream.connections == 0


def test_overload_is_shed_at_the_door_without_touching_the_workers(
    upstream: HeldUpstream,
) -> None:
    target = Upstream.connect("blue", upstream.url, 1 << 20, max_in_flight=2)
    app = _router(target)
    row = {"dataframe_records": [{"tenure": 0.4, "calls": 1}]}
    with AppServer(app) as srv, ThreadPoolExecutor(2) as pool:
        url = f"{srv.url}{PATH}"
        held = [pool.submit(httpx.post, url, json=row, timeout=60) for _ in range(2)]
        upstream.wait_for(2)
        with httpx.Client(timeout=30) as http:
            for _ in range(5):
                r = http.post(url, json=row)
                assert r.status_code == 503 and r.headers["retry-after"] == "1"
                assert "connection" not in r.headers  # a small body is dropped: kept alive
                assert r.json() == {
                    "error_code": "TEMPORARILY_UNAVAILABLE",
                    "message": "deployment 'blue' is at its limit of 2 requests in flight; "
                    "retry shortly",
                }
            # A big body is not read at all: the answer comes at once, the connection closes.
            status, headers, _ = raw_request(srv.port, _headers_only(100_000))
            assert status == 503 and headers["connection"] == "close"
            assert upstream.requests == 2 and upstream.connections == 2
            assert target.in_flight == 2
            upstream.release()
            assert [f.result().status_code for f in held] == [200, 200]
            # The slots are free again.
            assert http.post(url, json=row).status_code == 200
        metrics = httpx.get(f"{srv.url}/metrics").text
    assert 'modelwright_router_requests_total{deployment="",endpoint="churn",status="503"} 6.0' in (
        metrics
    )
    assert target.in_flight == 0


def test_healthz_says_an_endpoint_without_a_live_worker_is_not_ready() -> None:
    live = {"blue": 1, "green": 0}
    upstreams = {
        name: Upstream.connect(name, "http://127.0.0.1:9", 1024) for name in ("blue", "green")
    }
    upstreams["blue"].live_workers = lambda: live["blue"]
    upstreams["green"].live_workers = lambda: live["green"]
    app = RouterApp("ml", "dev", Authorizer(_allow, require_token=False), RouterMetrics())
    app.update(
        {
            "churn": EndpointRoute(
                name="churn", generation=1, deployments=upstreams, weights={"blue": 100}
            )
        }
    )
    with AppServer(app) as srv:
        health = httpx.get(f"{srv.url}/healthz").json()
        assert health["ready"] is True and health["status"] == "ok"
        assert health["endpoints"]["churn"]["ready"] is True
        assert health["endpoints"]["churn"]["not_ready"] == ["green"]
        live["blue"] = 0  # its only worker died; it is being restarted
        health = httpx.get(f"{srv.url}/healthz").json()
        assert health["ready"] is False and health["status"] == "degraded"
        assert health["endpoints"]["churn"] | {"generation": 1} == {
            "generation": 1,
            "deployments": {"blue": 100, "green": 0},
            "shadow": None,
            "ready": False,
            "not_ready": ["blue", "green"],
        }


def test_the_body_deadline_must_be_positive() -> None:
    with pytest.raises(ValueError, match="body_timeout: must be more than 0 seconds, got 0"):
        RouterApp(
            "ml", "dev", Authorizer(_allow, require_token=False), RouterMetrics(), body_timeout=0
        )
