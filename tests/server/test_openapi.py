"""The OpenAPI document says enough for a generated client or a fuzzer to send valid requests
and to know every answer: each path parameter, the name and key rules as patterns that agree
with the server's own checks, integer ranges, the success body and every error status.

SQLite only: the document does not depend on the database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from modelwright.api import OPERATIONS
from modelwright.core.ints import INT64_MAX, INT64_MIN
from modelwright.core.names import MAX_NAME, NAME_PATTERN, Name, ScopeName
from modelwright.core.platform import Platform
from modelwright.data.models import VersionSpec
from modelwright.server import create_app
from modelwright.tracking.models import KEY_PATTERN, MAX_KEY, Key, RunId

ERRORS = {"400", "401", "403", "404", "409", "413", "default"}
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def db() -> str:
    return "sqlite"


@pytest.fixture
def document(platform: Platform) -> dict[str, Any]:
    return create_app(platform).openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, entry)
        for path, item in document["paths"].items()
        for method, entry in item.items()
        if method in METHODS and path.startswith("/api/")
    ]


def test_every_path_parameter_of_every_route_is_declared_with_a_schema(
    document: dict[str, Any],
) -> None:
    operations = _operations(document)
    # and the four raw-bytes object routes, and the event stream
    assert len(operations) == len(OPERATIONS) + 5
    for path, method, entry in operations:
        declared = [p for p in entry.get("parameters", []) if p["in"] == "path"]
        assert [p["name"] for p in declared] == re.findall(r"{(\w+)}", path), (method, path)
        for p in declared:
            assert p["required"] is True
            assert p["schema"].get("type") in {"string", "integer"}, (path, p)


def test_object_routes_state_the_digest_and_name_rules_and_raw_bytes(
    document: dict[str, Any],
) -> None:
    route = document["paths"][
        "/api/v1/objects/datastores/{workspace}/{environment}/{datastore}/{digest}"
    ]
    schemas = {p["name"]: p["schema"] for p in route["put"]["parameters"]}
    assert schemas["digest"] == {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    for name in ("workspace", "environment", "datastore"):
        assert schemas[name]["pattern"] == NAME_PATTERN
        assert (schemas[name]["minLength"], schemas[name]["maxLength"]) == (1, MAX_NAME)
    assert set(route["put"]["requestBody"]["content"]) == {"application/octet-stream"}
    assert "content" not in route["put"]["responses"]["201"]
    assert "X-Modelwright-Digest" in route["put"]["responses"]["201"]["headers"]
    assert set(route["get"]["responses"]["200"]["content"]) == {"application/octet-stream"}
    assert route["put"]["operationId"] == "put_datastore_object"


def test_every_operation_declares_its_answer_and_every_error_with_the_error_body(
    document: dict[str, Any],
) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"]["required"] == ["error"]
    for op in OPERATIONS:
        entry = document["paths"][op.path][op.method.lower()]
        assert entry["operationId"] == op.name
        responses = entry["responses"]
        assert set(responses) == {str(op.status)} | ERRORS, op.name
        assert responses[str(op.status)]["content"]["application/json"]["schema"], op.name
        for status in ERRORS:
            assert responses[status]["content"]["application/json"]["schema"] == error


def _integers(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "integer" else []
        return found + [i for v in node.values() for i in _integers(v)]
    if isinstance(node, list):
        return [i for v in node for i in _integers(v)]
    return []


def test_every_integer_a_request_may_carry_has_a_range_the_database_holds(
    document: dict[str, Any],
) -> None:
    integers = [
        i
        for _, _, entry in _operations(document)
        for i in _integers([entry.get("parameters", []), entry.get("requestBody", {})])
    ]
    assert len(integers) >= 15
    for schema in integers:
        assert INT64_MIN <= schema["minimum"] <= schema["maximum"] <= INT64_MAX, schema


def _schema_accepts(pattern: str, max_length: int, value: str) -> bool:
    """A JSON Schema pattern is an ECMAScript search; ``$`` matches only at the very end."""
    return 1 <= len(value) <= max_length and re.search(pattern[:-1] + r"\Z", value) is not None


_ADAPTERS: dict[str, TypeAdapter[str]] = {
    "name": TypeAdapter(Name),
    "scope": TypeAdapter(ScopeName),
    "key": TypeAdapter(Key),
    "run id": TypeAdapter(RunId),
}


def _model_accepts(kind: str, value: str) -> bool:
    try:
        _ADAPTERS[kind].validate_python(value)
    except ValidationError:
        return False
    return True


_NAMEISH = st.text(alphabet="aZ09._-*/ :\n\x00é", max_size=MAX_NAME + 2)


@settings(max_examples=400, deadline=None)
@given(_NAMEISH | st.from_regex(NAME_PATTERN))
@example("a..b")
@example("a.")
@example("." + "a")
@example("x" * MAX_NAME)
@example("x" * (MAX_NAME + 1))
@example("name\n")
def test_the_name_pattern_accepts_exactly_the_names_the_server_accepts(value: str) -> None:
    assert _schema_accepts(NAME_PATTERN, MAX_NAME, value) == _model_accepts("name", value)
    scope = ScopeName.__metadata__[1].json_schema["pattern"]  # type: ignore[attr-defined]
    assert _schema_accepts(scope, MAX_NAME, value) == _model_accepts("scope", value)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="a9_-. /:\\\n", max_size=12) | st.from_regex(KEY_PATTERN))
@example("..")
@example("a/../b")
@example("a/..")
@example("../a")
@example("/a")
@example("a//b/")
@example("...")
@example("a/.../b")
@example(".a/..b")
@example("x" * (MAX_KEY + 1))
def test_the_key_pattern_accepts_exactly_the_keys_the_server_accepts(value: str) -> None:
    assert _schema_accepts(KEY_PATTERN, MAX_KEY, value) == _model_accepts("key", value)


@pytest.mark.parametrize(
    "value",
    ["0" * 32, "a" * 32, "A" * 32, "0" * 31, "0" * 8, "0" * 7, "0" * 33, "g" * 32, "abc-1234"],
)
def test_the_run_id_pattern_agrees_with_the_server(value: str) -> None:
    # A run is named by its id or a unique prefix of 8 or more of its characters.
    pattern = TypeAdapter(RunId).json_schema()["pattern"]
    assert _schema_accepts(pattern, 32, value) == _model_accepts("run id", value)
    assert _model_accepts("run id", value) == bool(re.fullmatch(r"[0-9a-f]{8,32}", value))


@pytest.mark.parametrize(
    "value", ["latest", "1", "v3", "999999999", "v1000000000", "0", "v0", "3/x", "Latest", "v"]
)
def test_the_dataset_version_pattern_agrees_with_the_server(value: str) -> None:
    schema = TypeAdapter(VersionSpec).json_schema()
    assert _schema_accepts(schema["pattern"], 20, value) == (
        value == "latest" or re.fullmatch(r"v?[1-9][0-9]{0,8}", value) is not None
    )
    try:
        TypeAdapter(VersionSpec).validate_python(value)
        accepted = True
    except ValidationError:
        accepted = False
    assert _schema_accepts(schema["pattern"], 20, value) == accepted
