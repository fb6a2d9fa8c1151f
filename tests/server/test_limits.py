"""How much a request may carry: JSON bodies and uploads over their limits are refused with 413
before they are read (or as soon as a chunked body passes the limit), an upload quota is asked
before an upload is accepted, and every limit is a setting.

SQLite only: these limits are enforced before any request reaches the database."""

from __future__ import annotations

import hashlib
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import LiveServer, snapshot
from tests.server import quotas

from modelwright.client import Client, LocalTransport
from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput, QuotaExceeded
from modelwright.server import create_app
from modelwright.server.limits import load_upload_quota
from modelwright.settings import Settings

V1 = "/api/v1"


@pytest.fixture
def db() -> str:
    return "sqlite"


def _platform(settings: Settings, **limits: Any) -> Platform:
    return Platform(settings.model_copy(update=limits))


@pytest.fixture
def token(platform: Platform) -> str:
    with Client(LocalTransport(platform)) as admin:
        return admin.create_token(name="limits").secret


def _exchange(port: int, head: str, body: bytes = b"", timeout: float = 10) -> dict[str, Any]:
    """Send a request's head and the given part of its body on a raw socket; read the answer
    until the server closes the connection. A server still waiting for the rest of the body
    would time out here instead."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head_part, _, payload = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head_part.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return {"status": int(status_line.split()[1]), "headers": headers, "body": payload}


def _chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _json_error(answer: dict[str, Any], code: str) -> dict[str, Any]:
    assert answer["headers"]["content-type"] == "application/json"
    assert answer["headers"]["connection"] == "close"
    body = answer["body"]
    if answer["headers"].get("transfer-encoding") == "chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    error: dict[str, Any] = orjson.loads(body)["error"]
    assert error["code"] == code
    return error


# -- JSON bodies ----------------------------------------------------------------------------------
def test_a_json_body_over_the_limit_is_refused_from_content_length_before_it_is_read(
    settings: Settings, token: str
) -> None:
    platform = _platform(settings, max_body_bytes=1000)
    before = snapshot(platform)
    with LiveServer(platform) as server:
        # Only 10 of the announced 10**9 bytes are sent: the answer cannot wait for the rest.
        answer = _exchange(
            server.port,
            f"POST {V1}/workspaces HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\n"
            "Content-Type: application/json\nContent-Length: 1000000000\n",
            b'{"name": "',
        )
    assert answer["status"] == 413
    error = _json_error(answer, "too_large")
    assert error["message"] == (
        "request body: 1000000000 bytes is more than the server's limit of 1000 bytes "
        "(MODELWRIGHT_MAX_BODY_BYTES)"
    )
    assert error["details"] == {"field": "request body", "limit": 1000, "size": 1000000000}
    assert snapshot(platform) == before


def test_a_chunked_json_body_stops_being_read_at_the_limit(settings: Settings, token: str) -> None:
    platform = _platform(settings, max_body_bytes=1000)
    before = snapshot(platform)
    with LiveServer(platform) as server:
        # The body never ends: the server answers once it has more than the limit.
        answer = _exchange(
            server.port,
            f"POST {V1}/workspaces HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\n"
            "Content-Type: application/json\nTransfer-Encoding: chunked\n",
            _chunked(b'{"name": "' + b"w" * 600) + _chunked(b"w" * 600),
        )
    assert answer["status"] == 413
    error = _json_error(answer, "too_large")
    assert error["message"] == (
        "request body: the body is more than the server's limit of 1000 bytes "
        "(MODELWRIGHT_MAX_BODY_BYTES)"
    )
    assert snapshot(platform) == before


def test_json_bodies_within_the_limit_are_read_whether_chunked_or_not(
    settings: Settings, token: str
) -> None:
    platform = _platform(settings, max_body_bytes=1000)
    body = orjson.dumps({"name": "w", "description": "d" * 900})
    with (
        LiveServer(platform) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        assert http.post(f"{V1}/workspaces", content=body).status_code == 201
        chunks = iter([body[:500].replace(b'"w"', b'"v"'), body[500:]])
        assert http.post(f"{V1}/workspaces", content=chunks).status_code == 201


def test_the_json_body_limit_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings, token: str
) -> None:
    monkeypatch.setenv("MODELWRIGHT_MAX_BODY_BYTES", "64")
    monkeypatch.setenv("MODELWRIGHT_MAX_OBJECT_BYTES", "128")
    from_env = Settings(home=settings.home, db_url=None)
    assert (from_env.max_body_bytes, from_env.max_object_bytes) == (64, 128)
    with (
        LiveServer(Platform(from_env)) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        response = http.post(f"{V1}/workspaces", json={"name": "w", "description": "d" * 64})
        assert response.status_code == 413
        assert "limit of 64 bytes" in response.json()["error"]["message"]


def test_limits_have_safe_defaults_and_must_be_positive() -> None:
    defaults = Settings(home=Path("unused"))
    assert defaults.max_body_bytes == 10 * 1024**2
    assert defaults.max_object_bytes == 5 * 1024**3
    assert defaults.upload_quota is None
    for field in ("max_body_bytes", "max_object_bytes"):
        with pytest.raises(ValueError, match="greater than or equal to 1"):
            Settings(home=Path("unused"), **{field: 0})
    with pytest.raises(ValueError, match="upload_quota"):
        Settings(home=Path("unused"), upload_quota="not a dotted name")


# -- uploads --------------------------------------------------------------------------------------
@pytest.fixture
def spool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Where the server spools uploads in these tests: it must be left empty."""
    path = tmp_path / "spool"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


def _put(port: int, token: str, digest: str, extra_headers: str, body: bytes) -> dict[str, Any]:
    return _exchange(
        port,
        f"PUT {V1}/objects/artifacts/{digest} HTTP/1.1\nHost: x\nAuthorization: Bearer {token}\n"
        f"Content-Type: application/octet-stream\n{extra_headers}",
        body,
    )


def test_an_upload_over_the_limit_is_refused_from_content_length_before_it_is_read(
    settings: Settings, token: str, spool: Path
) -> None:
    platform = _platform(settings, max_object_bytes=1000)
    digest = hashlib.sha256(b"x" * 5000).hexdigest()
    with LiveServer(platform) as server:
        answer = _put(server.port, token, digest, "Content-Length: 5000\n", b"x" * 10)
    assert answer["status"] == 413
    error = _json_error(answer, "too_large")
    assert error["message"] == (
        "object: 5000 bytes is more than the server's limit of 1000 bytes "
        "(MODELWRIGHT_MAX_OBJECT_BYTES)"
    )
    assert not platform.artifacts.exists(digest)
    assert list(spool.iterdir()) == []


def test_a_chunked_upload_stops_being_read_at_the_limit_and_leaves_no_file(
    settings: Settings, token: str, spool: Path
) -> None:
    platform = _platform(settings, max_object_bytes=1000)
    digest = hashlib.sha256(b"x" * 1200).hexdigest()
    with LiveServer(platform) as server:
        answer = _put(
            server.port,
            token,
            digest,
            "Transfer-Encoding: chunked\n",
            _chunked(b"x" * 600) + _chunked(b"x" * 600),  # and the body never ends
        )
    assert answer["status"] == 413
    assert (
        "the body is more than the server's limit of 1000 bytes"
        in (_json_error(answer, "too_large")["message"])
    )
    assert not platform.artifacts.exists(digest)
    assert list(spool.iterdir()) == []


def test_uploads_up_to_the_limit_are_stored_whether_chunked_or_not(
    settings: Settings, token: str, spool: Path
) -> None:
    platform = _platform(settings, max_object_bytes=1000)
    whole, chunked = b"a" * 1000, b"b" * 1000
    with (
        LiveServer(platform) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        for data, content in ((whole, whole), (chunked, iter([chunked[:600], chunked[600:]]))):
            digest = hashlib.sha256(data).hexdigest()
            response = http.put(f"{V1}/objects/artifacts/{digest}", content=content)
            assert response.status_code == 201, response.text
            assert platform.artifacts.exists(digest)
    assert list(spool.iterdir()) == []


@pytest.fixture
def quota_calls() -> Iterator[list[tuple[str, int]]]:
    quotas.CALLS.clear()
    yield quotas.CALLS
    quotas.CALLS.clear()


def test_the_upload_quota_named_in_the_settings_is_asked_with_principal_and_size(
    settings: Settings, token: str, spool: Path, quota_calls: list[tuple[str, int]]
) -> None:
    platform = _platform(settings, upload_quota="tests.server.quotas:at_most_100_bytes")
    small, big = b"s" * 100, b"b" * 101
    with (
        LiveServer(platform) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        ok = http.put(f"{V1}/objects/artifacts/{hashlib.sha256(small).hexdigest()}", content=small)
        assert ok.status_code == 201
        for content in (big, iter([big[:50], big[50:]])):  # Content-Length, then chunked
            digest = hashlib.sha256(big).hexdigest()
            refused = http.put(f"{V1}/objects/artifacts/{digest}", content=content)
            assert refused.status_code == 413
            assert refused.headers["connection"] == "close"
            error = refused.json()["error"]
            assert error["code"] == "quota_exceeded"
            assert (
                error["message"] == "object: admin may upload at most 100 bytes (this one has 101)"
            )
            assert not platform.artifacts.exists(digest)
    assert quota_calls == [("admin", 100), ("admin", 101), ("admin", 101)]
    assert list(spool.iterdir()) == []


def test_an_upload_quota_can_be_given_to_the_app_and_the_client_sees_its_error(
    platform: Platform, token: str
) -> None:
    calls: list[tuple[str, int]] = []

    def refuse_all(principal: str, size: int) -> None:
        calls.append((principal, size))
        raise QuotaExceeded(f"object: {principal} has no quota left")

    digest = hashlib.sha256(b"data").hexdigest()
    with LiveServer(platform, app=create_app(platform, upload_quota=refuse_all)) as server:
        response = httpx.put(
            f"{server.url}{V1}/objects/artifacts/{digest}",
            content=b"data",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "quota_exceeded",
        "message": "object: admin has no quota left",
        "details": {},
    }
    assert calls == [("admin", 4)]


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("tests.server.no_such_module:f", "cannot load"),
        ("tests.server.quotas:missing", "cannot load"),
        ("tests.server.quotas:NOT_CALLABLE", "is not callable"),
    ],
)
def test_an_upload_quota_that_cannot_be_loaded_stops_the_server_from_starting(
    platform: Platform, spec: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words) as info:
        create_app(_platform(platform.settings, upload_quota=spec))
    assert info.value.message.startswith("upload_quota: ")


# -- documentation ----------------------------------------------------------------------------------
SECURITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


@pytest.mark.parametrize("field", ["max_body_bytes", "max_object_bytes", "upload_quota"])
def test_every_server_limit_is_documented_with_its_default(field: str) -> None:
    default = Settings.model_fields[field].default
    row = next(
        (
            line
            for line in SECURITY_DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith(f"| `MODELWRIGHT_{field.upper()}` |")
        ),
        None,
    )
    assert row is not None, f"docs/security.md has no row for MODELWRIGHT_{field.upper()}"
    assert (f"`{default}`" if default is not None else "none") in row


def test_the_documented_upload_quota_loads_and_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (example,) = re.findall(
        r"```python\n(.*?)```", SECURITY_DOC.read_text(encoding="utf-8"), re.DOTALL
    )
    (tmp_path / "quotas_doc.py").write_text(example, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    quota = load_upload_quota("quotas_doc:per_principal")
    assert quota is not None
    quota("ci-bot", 100 * 1024**2)
    quota("alice", 10 * 1024**3)
    with pytest.raises(QuotaExceeded, match="ci-bot may upload at most 104857600 bytes"):
        quota("ci-bot", 100 * 1024**2 + 1)
