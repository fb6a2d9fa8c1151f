"""The router forwards only to its own workers, whatever the path or the request line says;
bad paths and bad tokens are answered in JSON, never with a 500."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import orjson
import pytest
from tests.serving.conftest import AppServer, raw_request

from modelwright.endpoints.models import InvokeDecision
from modelwright.registry.predict import LoadedModel
from modelwright.serving import create_model_app
from modelwright.serving._paths import BadPath, model_server_route, segments
from modelwright.serving.router import (
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
)

BODY = orjson.dumps({"dataframe_records": [{"tenure": 0.4, "calls": 1}]})


class Trap:
    """A listener on a loopback port that counts the connections it is offered."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sock.close()


def post(target: bytes, *, extra: bytes = b"", method: bytes = b"POST") -> bytes:
    return (
        method + b" " + target + b" HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n"
        b"content-type: application/json\r\ncontent-length: %d\r\n"
        % len(BODY)
        + extra
        + b"\r\n"
        + BODY
    )


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    yield t
    t.close()


@pytest.fixture
def router(churn_model: LoadedModel) -> Iterator[AppServer]:
    async def ask(token: str) -> InvokeDecision:
        ok = token == "good"
        return InvokeDecision(
            principal="p", allowed=ok, status=200 if ok else 401, reason="unknown token"
        )

    app = RouterApp("ml", "dev", Authorizer(ask, require_token=True), RouterMetrics())
    with AppServer(create_model_app(churn_model, name="churn", version=1)) as model:
        app.update(
            {
                "churn": EndpointRoute(
                    name="churn",
                    generation=1,
                    deployments={"blue": Upstream.connect("blue", model.url, 1 << 20)},
                    weights={"blue": 100},
                )
            }
        )
        with AppServer(app) as srv:
            yield srv


GOOD = b"authorization: Bearer good\r\n"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"/endpoints/ml/dev/churn/invocations",
            ["endpoints", "ml", "dev", "churn", "invocations"],
        ),
        (b"/a/%41%62~-._x", ["a", "Ab~-._x"]),  # unreserved characters, decoded
    ],
)
def test_a_clean_path_is_split_into_its_segments(raw: bytes, expected: list[str]) -> None:
    assert segments(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"/a//b", "empty segment"),
        (b"/a/", "empty segment"),
        (b"/a/../b", "dot segment '..'"),
        (b"/a/./b", "dot segment '.'"),
        (b"/a/%2e%2e/b", "dot segment '%2e%2e'"),
        (b"/a/%2E./b", "dot segment '%2E.'"),
        (b"/a/%2Fb", "%2F encodes '/'"),
        (b"/a/%2fb", "%2f encodes '/'"),
        (b"/a/%5Cb", "%5C encodes a backslash"),
        (b"/a/%252F", "%25 encodes '%'"),
        (b"/a/\\b", "holds a backslash"),
        (b"/a/@host:1", "holds '@'"),
        (b"/a/x%40y", "%40 encodes '@'"),
        (b"/a/b%", "holds '%'"),
        (b"/a/\xc3\xa9", "holds 'Ã'"),
        (b"a/b", "must start with '/'"),
        (b"/" + b"a" * 3000, "longer than 2048 bytes"),
    ],
)
def test_a_tricky_path_is_refused_naming_the_problem(raw: bytes, problem: str) -> None:
    with pytest.raises(BadPath) as caught:
        segments(raw)
    assert caught.value.message.startswith("path: ") and problem in caught.value.message


def test_only_the_model_servers_routes_are_forwarded() -> None:
    for tail in (
        "invocations",
        "version",
        "v2",
        "v2/health/ready",
        "v2/models/churn",
        "v2/models/churn/infer",
        "v2/models/churn/versions/3/ready",
    ):
        assert model_server_route(tail.split("/")), tail
    for tail in ("metrics", "v2/models", "v2/models/churn/load", "invocations/x", "admin"):
        assert not model_server_route(tail.split("/")), tail


def test_an_upstream_builds_urls_only_on_its_own_origin() -> None:
    upstream = Upstream.connect("blue", "http://127.0.0.1:8001", 1024)
    assert str(upstream.target("/v2/models/churn/infer")) == (
        "http://127.0.0.1:8001/v2/models/churn/infer"
    )
    for path in ("//evil:1/x", "/a/../b", "/@evil/x", "http://evil/", "/a?b", "/a%2Fb", ""):
        with pytest.raises(ValueError, match="upstream path"):
            upstream.target(path)


def test_no_path_reaches_another_host(router: AppServer, trap: Trap) -> None:
    p = str(trap.port).encode()
    tricks = [
        b"/endpoints/ml/dev/churn//127.0.0.1:" + p + b"/x",
        b"/endpoints/ml/dev/churn//127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn///127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/@127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn@127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/%2F%2F127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/%2f%2f127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn%2F%2F127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/../../../../127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/%2e%2e/%2E%2E/invocations",
        b"/endpoints/ml/dev/churn/..%2F..%2F127.0.0.1:" + p,
        b"/endpoints/ml/dev/churn/\\\\127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/%5C%5C127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/invocations/..//127.0.0.1:" + p + b"/",
        b"//127.0.0.1:" + p + b"/endpoints/ml/dev/churn/invocations",
        b"/endpoints/ml/dev/churn/http:%2F%2F127.0.0.1:" + p + b"/invocations",
        b"/endpoints/ml/dev/churn/v2/models/churn/infer/..%2f..%2f..%2finvocations",
    ]
    for target in tricks:
        status, headers, body = raw_request(router.port, post(target, extra=GOOD))
        assert status in (400, 404), (target, status, body)
        assert headers["content-type"] == "application/json", (target, body)
        error = orjson.loads(body)
        assert error.get("error") or error["message"], target
    # Absolute URIs in the request line: the authority is never where the router forwards.
    for target in (
        b"http://127.0.0.1:" + p + b"/",
        b"http://127.0.0.1:" + p + b"/invocations",
        b"http://evil/",
        b"http://127.0.0.1:" + p + b"//127.0.0.1:" + p + b"/x",
    ):
        status, _, body = raw_request(router.port, post(target, extra=GOOD, method=b"GET"))
        assert 400 <= status < 500, (target, status, body)
    # An absolute URI whose path is a real route reaches the deployment, not its authority.
    status, _, body = raw_request(
        router.port,
        post(b"http://127.0.0.1:" + p + b"/endpoints/ml/dev/churn/invocations", extra=GOOD),
    )
    assert status == 200 and orjson.loads(body) == {"predictions": [1]}
    # So does a Host header naming the trap, and a query string that looks like a URL.
    status, _, body = raw_request(
        router.port,
        post(
            b"/endpoints/ml/dev/churn/invocations?u=//127.0.0.1:" + p,
            extra=GOOD + b"x-forwarded-host: 127.0.0.1:" + p + b"\r\n",
        ).replace(b"host: 127.0.0.1", b"host: 127.0.0.1:" + p),
    )
    assert status == 200, body
    # Every answer above was given before it was read, so a forward would have been counted.
    assert trap.connections == 0
    # And the trap does count: it is listening.
    socket.create_connection(("127.0.0.1", trap.port), timeout=5).close()
    deadline = threading.Event()
    for _ in range(200):
        if trap.connections:
            break
        deadline.wait(0.05)
    assert trap.connections == 1


def test_a_double_slash_is_a_json_400_not_a_500(router: AppServer) -> None:
    status, headers, body = raw_request(
        router.port, post(b"/endpoints/ml/dev/churn//invocations", extra=GOOD)
    )
    assert status == 400 and headers["content-type"] == "application/json"
    assert "empty segment" in body.decode()


@pytest.mark.parametrize(
    ("authorization", "problem"),
    [
        (b"Bearer " + b"a" * 100_000, "100000 characters, more than the 1024 allowed"),
        (b"Bearer \xc3\xa9t\xc3\xa9", "other than visible ASCII"),
        (b"Bearer ab\tcd", "other than visible ASCII"),
        (b"abc", "no 'Bearer' scheme"),
        (b"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "no 'Bearer' scheme"),
        (b"Bearer", "no token after 'Bearer'"),
        (b"Bearer    ", "no token after 'Bearer'"),
    ],
)
def test_a_malformed_token_is_a_json_401(
    router: AppServer, authorization: bytes, problem: str
) -> None:
    request = post(
        b"/endpoints/ml/dev/churn/invocations", extra=b"authorization: " + authorization + b"\r\n"
    )
    status, headers, body = raw_request(router.port, request)
    assert status == 401 and headers["content-type"] == "application/json", body[:200]
    assert problem in body.decode(), body[:300]


def test_control_characters_in_a_token_never_reach_the_router(router: AppServer) -> None:
    # The HTTP parser refuses such a header before any routing: a 4xx, never a 500.
    for authorization in (b"Bearer ab\x01cd", b"Bearer ab\x7fcd", b"Bearer\x00x"):
        request = post(
            b"/endpoints/ml/dev/churn/invocations",
            extra=b"authorization: " + authorization + b"\r\n",
        )
        status, _, _ = raw_request(router.port, request)
        assert status == 400


def test_a_platform_that_cannot_be_asked_is_a_json_503(churn_model: LoadedModel) -> None:
    async def ask(token: str) -> InvokeDecision:
        raise ConnectionError("platform down")

    app = RouterApp("ml", "dev", Authorizer(ask, require_token=True), RouterMetrics())
    app.update(
        {
            "churn": EndpointRoute(
                name="churn",
                generation=1,
                deployments={"blue": Upstream.connect("blue", "http://127.0.0.1:9", 1024)},
                weights={"blue": 100},
            )
        }
    )
    with AppServer(app) as srv:
        status, headers, body = raw_request(
            srv.port, post(b"/endpoints/ml/dev/churn/invocations", extra=GOOD)
        )
    assert status == 503 and headers["retry-after"] == "1"
    assert "token could not be checked (ConnectionError)" in body.decode()
