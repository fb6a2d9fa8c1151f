"""The REST server, spoken to directly with httpx: status codes, one JSON error body
everywhere, authentication, request shapes, health, metrics and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from tests.conftest import LiveServer, snapshot

import modelwright
from modelwright.api import OPERATIONS
from modelwright.client import Client, LocalTransport
from modelwright.core.platform import Platform
from modelwright.server import app as server_app
from modelwright.store import schema

V1 = "/api/v1"


@pytest.fixture
def admin(platform: Platform) -> Iterator[Client]:
    """An in-process admin over the same store, for set-up and for checking state."""
    with Client(LocalTransport(Platform(platform.settings))) as c:
        yield c


@pytest.fixture
def token(admin: Client) -> str:
    return admin.create_token(name="http-tests").secret


@pytest.fixture
def http(server: LiveServer, token: str) -> Iterator[httpx.Client]:
    # A loaded test machine can take seconds over a first answer: more than httpx's 5 s default.
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=60) as c:
        yield c


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the one error shape and return the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return dict(body["error"])


def test_success_statuses_and_bodies(http: httpx.Client) -> None:
    created = http.post(f"{V1}/workspaces", json={"name": "w"})
    assert created.status_code == 201
    assert created.json()["name"] == "w"
    got = http.get(f"{V1}/workspaces/w")
    assert got.status_code == 200
    assert got.json() == created.json()
    ds = http.post(
        f"{V1}/workspaces/w/environments/dev/datastores", json={"name": "d", "url": "memory://d"}
    )
    assert ds.status_code == 201
    assert ds.json() == {
        "name": "d",
        "url": "memory://d",
        "classification": "non-production",
        "region": "",
    }
    check = http.get(
        f"{V1}/access/check", params={"action": "data.read", "workspace": "w", "environment": "dev"}
    )
    assert check.status_code == 200
    assert check.json()["allowed"] is True
    assert http.delete(f"{V1}/workspaces/w/environments/dev/datastores/d").status_code == 200


def test_every_error_status_has_the_same_json_body(
    http: httpx.Client, admin: Client, server: LiveServer
) -> None:
    admin.create_workspace("w")
    admin.create_principal("bob")
    bob = admin.create_token(principal="bob").secret

    _error(http.post(f"{V1}/workspaces", json={"name": "../x"}), 400, "invalid_input")
    _error(httpx.get(f"{server.url}{V1}/workspaces"), 401, "unauthenticated")
    forbidden = _error(
        httpx.post(
            f"{server.url}{V1}/workspaces",
            json={"name": "x"},
            headers={"Authorization": f"Bearer {bob}"},
        ),
        403,
        "permission_denied",
    )
    assert forbidden["details"]["principal"] == "bob"
    missing = _error(http.get(f"{V1}/workspaces/nope"), 404, "not_found")
    # The error lists the workspaces the caller can see.
    assert missing["details"] == {"workspace": "nope", "visible": ["w"]}
    _error(http.post(f"{V1}/workspaces", json={"name": "w"}), 409, "already_exists")
    _error(
        http.post(
            f"{V1}/workspaces/w/environments/dev/datastores",
            json={"name": "lake", "url": "s3://b/l", "classification": "production"},
        ),
        409,
        "conflict",
    )
    _error(http.put(f"{V1}/workspaces"), 405, "method_not_allowed")
    _error(http.patch(f"{V1}/workspaces/w"), 405, "method_not_allowed")
    _error(http.get("/no/such/route"), 404, "not_found")
    _error(http.get(f"{V1}/nothing-here"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (b"{not json", None, "not valid JSON"),
        (b'{"name": "w",}', None, "not valid JSON"),
        (b"[1, 2]", None, "must be a JSON object"),
        (b'"w"', None, "must be a JSON object"),
        (b"\xff\xfe", None, "not valid JSON"),
        (b'{"name": "w", "extra": 1}', "extra", "Extra inputs are not permitted"),
        (b'{"name": 5}', "name", "valid string"),
        (b'{"name": null}', "name", "valid string"),
        (b"{}", "name", "Field required"),
        (b'{"name": "w", "environments": "dev"}', "environments", "valid list"),
        (
            b'{"name": "w", "environments": [{"name": "dev", "production": "maybe"}]}',
            "environments[0].production",
            "valid boolean",
        ),
        (
            b'{"name": "w", "description": ' + b'"' + b"d" * 2001 + b'"}',
            "description",
            "at most 2000",
        ),
    ],
)
def test_request_bodies_of_the_wrong_shape_are_invalid_input(
    http: httpx.Client, platform: Platform, body: bytes, field: str | None, words: str
) -> None:
    before = snapshot(platform)
    response = http.post(
        f"{V1}/workspaces", content=body, headers={"Content-Type": "application/json"}
    )
    err = _error(response, 400, "invalid_input")
    assert words in err["message"]
    if field is not None:
        assert err["message"].startswith(f"{field}: ")
        assert err["details"]["field"] == field
        assert err["details"]["problems"][0]["field"] == field
    assert snapshot(platform) == before


def test_query_and_path_parameters_are_validated(http: httpx.Client) -> None:
    err = _error(http.get(f"{V1}/workspaces", params={"bogus": "1"}), 400, "invalid_input")
    assert err["details"]["field"] == "bogus"
    err = _error(http.get(f"{V1}/audit", params={"limit": "lots"}), 400, "invalid_input")
    assert err["details"]["field"] == "limit"
    _error(http.get(f"{V1}/audit", params={"limit": "0"}), 400, "invalid_input")
    _error(http.get(f"{V1}/audit", params={"since": "yesterday"}), 400, "invalid_input")
    err = _error(
        http.get(f"{V1}/audit", params={"since": "2020-01-01T00:00:00"}), 400, "invalid_input"
    )
    assert "timezone" in err["message"]
    _error(http.post(f"{V1}/tokens/abc/revoke"), 400, "invalid_input")
    _error(
        http.get(f"{V1}/access/check", params={"action": "fly", "workspace": "w"}),
        400,
        "invalid_input",
    )
    for bad in ("a\x01b", "../x", "x" * 65):
        err = _error(
            http.get(f"{V1}/access/check", params={"action": "data.read", "workspace": bad}),
            400,
            "invalid_input",
        )
        assert err["details"]["field"] == "workspace"
    err = _error(http.get(f"{V1}/workspaces/{'x' * 65}"), 400, "invalid_input")
    assert err["details"]["field"] == "workspace"
    _error(http.get(f"{V1}/workspaces/a%01b"), 400, "invalid_input")


def test_invalid_names_are_refused_by_the_server(http: httpx.Client, platform: Platform) -> None:
    http.post(f"{V1}/workspaces", json={"name": "w"})
    http.post(f"{V1}/principals", json={"name": "bob"})
    before = snapshot(platform)
    for bad in ("../x", "", "x" * 65, "a\x00b", "a\nb"):
        requests = [
            ("POST", f"{V1}/workspaces", {"name": bad}),
            ("POST", f"{V1}/workspaces/w/environments", {"name": bad}),
            (
                "POST",
                f"{V1}/workspaces/w/environments/dev/datastores",
                {"name": bad, "url": "memory://x"},
            ),
            ("POST", f"{V1}/principals", {"name": bad}),
            ("POST", f"{V1}/roles", {"name": bad, "actions": ["data.read"]}),
            (
                "POST",
                f"{V1}/grants",
                {"principal": "bob", "role": "viewer", "workspace": "w", "environment": bad},
            ),
            ("POST", f"{V1}/grants", {"principal": "bob", "role": "viewer", "workspace": bad}),
            ("POST", f"{V1}/tokens", {"principal": bad}),
            ("POST", f"{V1}/platform/apply", {"spec": {"workspaces": [{"name": bad}]}}),
        ]
        for method, path, body in requests:
            err = _error(http.request(method, path, json=body), 400, "invalid_input")
            assert err["details"]["field"], (method, path, bad)
    assert snapshot(platform) == before


def test_bad_credentials_are_401_with_the_json_body(
    server: LiveServer, admin: Client, platform: Platform
) -> None:
    admin.create_principal("bob")
    revoked = admin.create_token(principal="bob")
    admin.revoke_token(revoked.id)
    expired = admin.create_token(principal="bob", expires_at=datetime.now(UTC) + timedelta(hours=1))
    with platform.engine.begin() as conn:
        conn.execute(
            update(schema.Token)
            .where(schema.Token.id == expired.id)
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    cases = {
        "missing": {},
        "empty bearer": {"Authorization": "Bearer"},
        "basic scheme": {"Authorization": "Basic dXNlcjpwYXNz"},
        "malformed": {"Authorization": "Bearer not-a-token"},
        "unknown": {"Authorization": "Bearer mwt_" + "Z" * 43},
        "revoked": {"Authorization": f"Bearer {revoked.secret}"},
        "expired": {"Authorization": f"Bearer {expired.secret}"},
    }
    before = snapshot(platform)
    words = {
        "missing": "missing token",
        "empty bearer": "malformed Authorization header",
        "basic scheme": "malformed Authorization header",
        "malformed": "malformed token",
        "unknown": "unknown token",
        "revoked": "was revoked",
        "expired": "expired at",
    }
    with httpx.Client(base_url=server.url) as http:
        for case, headers in cases.items():
            for method, path, body in (
                ("GET", f"{V1}/whoami", None),
                ("POST", f"{V1}/workspaces", {"name": "sneaky"}),
            ):
                err = _error(
                    http.request(method, path, headers=headers, json=body), 401, "unauthenticated"
                )
                assert words[case] in err["message"], (case, err["message"])
    assert snapshot(platform) == before


def test_healthz_needs_no_token(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]


def test_metrics_count_requests_by_operation_and_status(http: httpx.Client) -> None:
    http.get(f"{V1}/workspaces")
    http.get(f"{V1}/workspaces/nope")
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "# TYPE modelwright_api_requests_total counter" in lines
    assert any(
        line.startswith('modelwright_api_requests_total{operation="list_workspaces",status="200"}')
        for line in lines
    )
    assert any(
        line.startswith('modelwright_api_requests_total{operation="get_workspace",status="404"}')
        for line in lines
    )
    assert any(line.startswith("modelwright_api_request_seconds_bucket") for line in lines)


def test_openapi_lists_every_operation_and_docs_render(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    paths = document["paths"]
    for op in OPERATIONS:
        assert op.path in paths, op.path
        entry = paths[op.path][op.method.lower()]
        assert entry["summary"] == op.summary
        assert str(op.status) in entry["responses"]
        assert "default" in entry["responses"]
        assert [p["name"] for p in entry.get("parameters", []) if p["in"] == "path"] == list(
            op.path_params
        )
    assert {"/healthz"} <= set(paths)
    # Every reference in the document resolves.
    text = http.get("/openapi.json").text
    schemas = document.get("components", {}).get("schemas", {})
    for ref in set(_refs(document)):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    assert "openapi" in document
    assert text
    docs = http.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "swagger" in docs.text.lower()


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def test_unexpected_errors_are_500_without_a_traceback(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(server_app, "run_operation", broken)
    err = _error(http.get(f"{V1}/workspaces"), 500, "internal")
    assert "secret internals" not in err["message"]


def test_metric_keys_with_slashes_and_spaces_have_their_history_over_http(
    http: httpx.Client, admin: Client, server: LiveServer, token: str
) -> None:
    admin.create_workspace("w")
    run = admin.start_run("e", workspace="w", environment="dev")
    for i, key in enumerate(("val/loss", "a b", "deep/er/key")):
        run.log_metric(key, float(i))
    run.flush()
    with modelwright.connect(server.url, token=token) as remote:
        assert remote.metric_history(run.id, "val/loss").values == [0.0]
        assert remote.metric_history(run.id, "deep/er/key").values == [2.0]
    response = http.get(f"{V1}/runs/{run.id}/metrics/a%20b")
    assert response.json()["values"] == [1.0]
    missing = _error(http.get(f"{V1}/runs/{run.id}/metrics/val%2Fnone"), 404, "not_found")
    assert "val/none" in missing["message"]
