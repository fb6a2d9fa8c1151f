"""The endpoint router over real model servers: weights, targeting, shadow, auth, failures."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.serving.conftest import AppServer, free_port

from modelwright.endpoints.models import InvokeDecision
from modelwright.registry.predict import LoadedModel
from modelwright.serving import Capture, create_model_app
from modelwright.serving.router import (
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
    UpstreamUnavailable,
)

ROW = {"dataframe_records": [{"tenure": 0.4, "calls": 1}]}
PATH = "/endpoints/ml/dev/churn/invocations"


def _allow_all() -> Authorizer:
    async def ask(token: str) -> InvokeDecision:
        allowed = token == "good"
        return InvokeDecision(
            principal="p" if allowed else "",
            allowed=allowed,
            status=200 if allowed else 403,
            reason="granted" if allowed else "principal 'p' may not endpoint.invoke in ml/dev",
        )

    return Authorizer(ask, require_token=False)


@pytest.fixture
def servers(churn_model: LoadedModel, tmp_path: Path) -> Iterator[dict[str, AppServer]]:
    """Three real model servers of the same model; 'shadow' captures to tmp_path/store."""
    capture = Capture(
        str(tmp_path / "store"),
        endpoint="churn",
        deployment="shadow",
        model="models:/churn/1",
        rate=0.0,
        flush_seconds=0.1,
    )
    apps = {
        "blue": create_model_app(churn_model, name="churn", version=1),
        "green": create_model_app(churn_model, name="churn", version=1),
        "shadow": create_model_app(churn_model, name="churn", version=1, capture=capture),
    }
    started = {name: AppServer(app).__enter__() for name, app in apps.items()}
    yield started
    for srv in started.values():
        srv.__exit__(None, None, None)


def _route(
    servers: dict[str, AppServer],
    weights: dict[str, int],
    shadow: str | None = None,
    percent: int = 0,
    extra: dict[str, str] | None = None,
) -> EndpointRoute:
    urls = {name: srv.url for name, srv in servers.items()} | (extra or {})
    return EndpointRoute(
        name="churn",
        generation=1,
        deployments={n: Upstream.connect(n, u, 1 << 20) for n, u in urls.items()},
        weights=weights,
        shadow=shadow,
        shadow_percent=percent,
    )


@pytest.fixture
def router() -> Iterator[tuple[RouterApp, str]]:
    app = RouterApp("ml", "dev", _allow_all(), RouterMetrics())
    with AppServer(app) as srv:
        yield app, srv.url


def test_traffic_follows_the_weights(
    servers: dict[str, AppServer], router: tuple[RouterApp, str]
) -> None:
    app, url = router
    app.update({"churn": _route(servers, {"blue": 75, "green": 25, "shadow": 0})})
    seen: Counter[str] = Counter()
    with httpx.Client(base_url=url) as http:
        for _ in range(400):
            r = http.post(PATH, json=ROW)
            assert r.status_code == 200 and r.json() == {"predictions": [1]}
            seen[r.headers["x-modelwright-deployment"]] += 1
    # Binomial(400, 0.75): mean 300, sd ~8.7; 6 sd either way.
    assert 248 <= seen["blue"] <= 352 and seen["blue"] + seen["green"] == 400
    assert "shadow" not in seen
    metrics = httpx.get(f"{url}/metrics").text
    assert (
        'modelwright_router_requests_total{deployment="green",endpoint="churn",status="200"}'
        in (metrics)
    )


def test_header_targets_one_deployment(
    servers: dict[str, AppServer], router: tuple[RouterApp, str]
) -> None:
    app, url = router
    app.update({"churn": _route(servers, {"blue": 100, "green": 0})})
    with httpx.Client(base_url=url) as http:
        for _ in range(5):
            r = http.post(PATH, json=ROW, headers={"x-modelwright-deployment": "green"})
            assert r.headers["x-modelwright-deployment"] == "green"
        r = http.post(PATH, json=ROW, headers={"x-modelwright-deployment": "red"})
    assert r.status_code == 404
    assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert "no running deployment 'red'" in r.json()["message"]
    assert "blue, green, shadow" in r.json()["message"]


def test_open_inference_protocol_through_the_router(
    servers: dict[str, AppServer], router: tuple[RouterApp, str]
) -> None:
    app, url = router
    app.update({"churn": _route(servers, {"blue": 100})})
    body = {
        "inputs": [
            {"name": "tenure", "shape": [1], "datatype": "FP64", "data": [0.4]},
            {"name": "calls", "shape": [1], "datatype": "INT64", "data": [1]},
        ]
    }
    r = httpx.post(f"{url}/endpoints/ml/dev/churn/v2/models/churn/infer", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == [1]
    r = httpx.post(f"{url}/endpoints/ml/dev/nope/v2/models/nope/infer", json=body)
    assert r.status_code == 404 and "endpoint 'nope' not found" in r.json()["error"]


def test_shadow_gets_a_copy_captured_and_never_slows_the_caller(
    servers: dict[str, AppServer], router: tuple[RouterApp, str], tmp_path: Path
) -> None:
    app, url = router
    app.update({"churn": _route(servers, {"blue": 100}, shadow="shadow", percent=100)})
    with httpx.Client(base_url=url) as http:
        for i in range(6):
            r = http.post(PATH, json=ROW, headers={"x-request-id": f"mirror-{i}"})
            assert r.headers["x-modelwright-deployment"] == "blue"
            assert r.headers["x-request-id"] == f"mirror-{i}"
    deadline = time.monotonic() + 10
    frame = pd.DataFrame()
    while time.monotonic() < deadline:
        files = list((tmp_path / "store" / "capture" / "churn" / "shadow").rglob("*.parquet"))
        if files:
            frame = pd.concat([pd.read_parquet(f) for f in files])
            if len(frame) >= 6:
                break
        time.sleep(0.1)
    # Captured although the shadow's sampling rate is 0: mirrored copies are always captured.
    assert sorted(frame["request_id"]) == [f"mirror-{i}" for i in range(6)]
    assert frame["shadow"].all() and (frame["status"] == 200).all()

    # A shadow that is down changes nothing for callers; the failures are counted.
    dead = f"http://127.0.0.1:{free_port()}"
    app.update(
        {"churn": _route(servers, {"blue": 100}, shadow="gone", percent=100, extra={"gone": dead})}
    )
    for _ in range(3):
        assert httpx.post(f"{url}{PATH}", json=ROW).status_code == 200
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        metrics = httpx.get(f"{url}/metrics").text
        if 'modelwright_router_shadow_requests_total{endpoint="churn",outcome="failed"} 3.0' in (
            metrics
        ):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(metrics)


def test_refusals_are_clear(servers: dict[str, AppServer], router: tuple[RouterApp, str]) -> None:
    app, url = router
    dead = f"http://127.0.0.1:{free_port()}"
    app.update(
        {
            "churn": _route(servers, {"blue": 0, "green": 0}),
            "down": EndpointRoute(
                name="down",
                generation=1,
                deployments={"x": Upstream.connect("x", dead, 1024)},
                weights={"x": 100},
            ),
        }
    )
    with httpx.Client(base_url=url) as http:
        r = http.post(PATH, json=ROW)
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert r.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert "no deployment taking traffic" in r.json()["message"]
        r = http.post("/endpoints/ml/dev/down/invocations", json=ROW)
        assert r.status_code == 503 and "deployment 'x' is unavailable" in r.text
        r = http.post("/endpoints/ml/prod/churn/invocations", json=ROW)
        assert r.status_code == 404 and "/endpoints/ml/dev/<endpoint>/invocations" in r.text
        r = http.post("/endpoints/ml/dev/other/invocations", json=ROW)
        assert r.status_code == 404
        assert "endpoints served here: churn, down" in r.json()["message"]
        r = http.post("/endpoints/ml/dev/down/invocations", content=b"x" * 2048, headers={"x": "y"})
        assert r.status_code == 413 and "limit of 1024 bytes" in r.text
        # Bad input is the model server's answer, passed through unchanged.
        r = http.post(
            PATH,
            json={"dataframe_records": [{"tenure": 1.0}]},
            headers={"x-modelwright-deployment": "blue"},
        )
        assert r.status_code == 400 and "calls" in r.text
        health = http.get("/healthz").json()
    assert health["endpoints"]["churn"]["deployments"] == {"blue": 0, "green": 0, "shadow": 0}


def test_tokens(servers: dict[str, AppServer], churn_model: LoadedModel) -> None:
    asked: list[str] = []

    async def ask(token: str) -> InvokeDecision:
        asked.append(token)
        ok = token == "good"
        return InvokeDecision(
            principal="p", allowed=ok, status=200 if ok else 403, reason="no invoke grant"
        )

    app = RouterApp("ml", "dev", Authorizer(ask, require_token=True), RouterMetrics())
    app.update({"churn": _route(servers, {"blue": 100})})
    with AppServer(app) as srv, httpx.Client(base_url=srv.url) as http:
        r = http.post(PATH, json=ROW)
        assert r.status_code == 401 and "missing token" in r.text
        r = http.post(PATH, json=ROW, headers={"authorization": "Basic abc"})
        assert r.status_code == 401 and "malformed" in r.text
        r = http.post(PATH, json=ROW, headers={"authorization": "Bearer bad"})
        assert r.status_code == 403 and r.json()["error_code"] == "PERMISSION_DENIED"
        for _ in range(5):
            r = http.post(PATH, json=ROW, headers={"authorization": "Bearer good"})
            assert r.status_code == 200
    # Decisions are cached for a few seconds: one question per token, not one per request.
    assert asked == ["bad", "good"]


async def _upstream_that_drops(drops: int) -> tuple[asyncio.AbstractServer, list[int]]:
    """A bare HTTP server that closes the first ``drops`` connections without answering
    (as a worker killed mid-request does), then answers 200."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        await reader.readuntil(b"\r\n\r\n")
        if len(seen) > drops:
            body = b'{"predictions": [1]}'
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), seen


@pytest.mark.parametrize("drops", [1, 2])
def test_a_connection_that_dies_under_a_request_is_tried_once_more(drops: int) -> None:
    async def scenario() -> tuple[int | None, int]:
        server, seen = await _upstream_that_drops(drops)
        port = server.sockets[0].getsockname()[1]
        upstream = Upstream.connect("x", f"http://127.0.0.1:{port}", 1024)
        try:
            reply = await upstream.request("POST", "/invocations", b"{}", {})
            status: int | None = reply.status
        except UpstreamUnavailable:
            status = None
        finally:
            await upstream.close()
            server.close()
        return status, len(seen)

    status, connections = asyncio.run(scenario())
    # One drop: answered on the second connection. Two: the caller gets "unavailable".
    assert (status, connections) == ((200, 2) if drops == 1 else (None, 2))
