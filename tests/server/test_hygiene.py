"""What every answer of the server says about itself: nosniff everywhere, no-store on the API,
no server banner, a closed connection after a 500, and API docs that work offline.

SQLite only: nothing here depends on the database."""

from __future__ import annotations

import hashlib
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer

import modelwright.server
from modelwright.client import Client, LocalTransport
from modelwright.core.platform import Platform
from modelwright.server import app as server_app

V1 = "/api/v1"
STATIC = Path(modelwright.server.__file__).parent / "static" / "swagger-ui"


@pytest.fixture
def db() -> str:
    return "sqlite"


@pytest.fixture
def token(platform: Platform) -> str:
    with Client(LocalTransport(platform)) as admin:
        return admin.create_token(name="hygiene").secret


@pytest.fixture
def http(server: LiveServer, token: str) -> Iterator[httpx.Client]:
    # A loaded test machine can take seconds over a first answer: more than httpx's 5 s default.
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=60) as c:
        yield c


def _answers(http: httpx.Client, server: LiveServer) -> dict[str, httpx.Response]:
    """One answer of each kind the server gives."""
    data = b"object bytes"
    digest = hashlib.sha256(data).hexdigest()
    return {
        "created": http.post(f"{V1}/workspaces", json={"name": "w"}),
        "ok": http.get(f"{V1}/workspaces"),
        "token created": http.post(f"{V1}/tokens", json={"name": "t"}),
        "invalid": http.post(f"{V1}/workspaces", json={"name": "../x"}),
        "unauthenticated": httpx.get(f"{server.url}{V1}/workspaces"),
        "not found": http.get(f"{V1}/workspaces/nope"),
        "no route": http.get(f"{V1}/nothing-here"),
        "bad method": http.put(f"{V1}/workspaces"),
        "upload": http.put(f"{V1}/objects/artifacts/{digest}", content=data),
        "too large": http.post(f"{V1}/workspaces", content=b"x" * (11 * 1024**2)),
        "healthz": http.get("/healthz"),
        "metrics": http.get("/metrics"),
        "openapi": http.get("/openapi.json"),
        "docs": http.get("/docs"),
        "static": http.get("/static/swagger-ui/swagger-ui.css"),
    }


def test_every_answer_says_nosniff_and_names_no_server(
    http: httpx.Client, server: LiveServer
) -> None:
    answers = _answers(http, server)
    assert answers["too large"].status_code == 413
    for kind, response in answers.items():
        assert response.headers.get("x-content-type-options") == "nosniff", kind
        assert "server" not in response.headers, kind
        assert response.headers.get("date"), kind


def test_api_answers_are_never_stored_by_a_cache(http: httpx.Client, server: LiveServer) -> None:
    answers = _answers(http, server)
    assert answers["token created"].json()["secret"]
    for kind, response in answers.items():
        if response.request.url.path.startswith("/api/"):
            assert response.headers.get("cache-control") == "no-store", kind
        else:
            assert "cache-control" not in response.headers, kind


def test_a_500_closes_the_connection_and_carries_the_same_headers(
    server: LiveServer, token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(server_app, "run_operation", broken)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        # A keep-alive request: only the server's Connection: close ends this connection,
        # otherwise reading until the end times out.
        sock.sendall(
            f"GET {V1}/workspaces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head = received.partition(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 500")
    assert "\r\nconnection: close" in head
    assert "\r\nx-content-type-options: nosniff" in head
    assert "\r\ncache-control: no-store" in head
    assert "\r\nserver:" not in head
    assert b"secret internals" not in received


def test_the_docs_page_loads_everything_from_the_server_itself(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text)
    references += re.findall(r"""url:\s*["']([^"']+)["']""", page.text)
    assert len(references) == 4, references  # the script, the style sheet, the icon, the API
    for ref in references:
        assert ref.startswith("/") and not ref.startswith("//"), ref
    assert not re.search(r"https?://|//[a-z]", page.text, re.IGNORECASE)
    # Swagger UI would otherwise send the document to its online validator.
    assert '"validatorUrl": null' in page.text
    for ref in references:
        assert http.get(ref).status_code == 200, ref
    assert http.get("/redoc").status_code == 404


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_the_swagger_ui_assets_are_served_from_the_package(
    http: httpx.Client, name: str, content_type: str
) -> None:
    response = http.get(f"/static/swagger-ui/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.content == (STATIC / name).read_bytes()
    assert "Apache License" in (STATIC / "LICENSE").read_text()


def test_modelwright_server_runs_uvicorn_as_the_tests_live_server_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    from modelwright.cli.server import server
    from modelwright.server.run import uvicorn_options

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.setenv("MODELWRIGHT_HOME", str(tmp_path))
    server(host="0.0.0.0", port=8123, workers=2, log_level="warning")
    options = uvicorn_options(host="0.0.0.0", port=8123, log_level="warning")
    assert options["server_header"] is False
    assert calls == [
        {
            "app": "modelwright.server.app:app_with_worker_from_settings",
            "factory": True,
            "workers": 2,
            **options,
        }
    ]
