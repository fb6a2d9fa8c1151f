"""OpenAPI fragments for the generic routes: parameters and body from the request model."""

from __future__ import annotations

import copy
import functools
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from modelwright.api import Operation
from modelwright.api.headers import ENVIRONMENT_HEADER
from modelwright.api.objects import DIGEST_HEADER
from modelwright.core.names import MAX_NAME, NAME_PATTERN, Name

__all__ = ["error_responses", "install_components", "object_openapi", "operation_openapi"]

_REF = "#/components/schemas/"


_BARE = NAME_PATTERN.removeprefix("^").removesuffix("$")
# The environment the caller acts in (docs/access.md): optional on every operation; reading
# production data needs a production one.
ACTING_PARAMETER: dict[str, Any] = {
    "name": ENVIRONMENT_HEADER,
    "in": "header",
    "required": False,
    "description": "The environment the caller acts in: 'env' or 'workspace/env'. Reading "
    "production data needs a production one.",
    "schema": {
        "type": "string",
        "maxLength": 2 * MAX_NAME + 1,
        "pattern": f"^({_BARE}/)?{_BARE}$",
    },
}


def operation_openapi(
    op: Operation[Any, Any], components: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The operation's OpenAPI fragment. Models are inlined, except recursive ones (a tree
    node holding its children), which cannot be: those are added to ``components`` and
    referenced, and ``install_components`` publishes them in the document."""
    # Declarations never change, and building the schemas costs milliseconds per operation:
    # build them once per process, not once per app.
    extra, shared = _fragment(op)
    if components is not None:
        components.update(copy.deepcopy(shared))
    return copy.deepcopy(extra)


@functools.cache
def _fragment(op: Operation[Any, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    shared: dict[str, Any] = {}
    schema = op.request.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    params = [
        {"name": p, "in": "path", "required": True, "schema": props.get(p, {"type": "string"})}
        for p in op.path_params
    ]
    extra: dict[str, Any] = {}
    if op.has_body:
        body_props = {k: v for k, v in props.items() if k not in op.path_params}
        body_schema = {**schema, "properties": body_props}
        body_schema["required"] = sorted(required & set(body_props))
        extra["requestBody"] = {
            "required": bool(body_schema["required"]),
            "content": {"application/json": {"schema": _inline(body_schema, defs, shared)}},
        }
    else:
        params += [
            {
                "name": k,
                "in": "query",
                "required": k in required,
                "schema": _inline(v, defs, shared),
            }
            for k, v in props.items()
            if k not in op.path_params
        ]
    response_schema = TypeAdapter(op.response).json_schema(
        ref_template="#/components/schemas/{model}"
    )
    response_defs = response_schema.pop("$defs", {})
    extra["parameters"] = [*params, ACTING_PARAMETER]
    extra["responses"] = {
        str(op.status): {
            "description": "Success",
            "content": {
                "application/json": {"schema": _inline(response_schema, response_defs, shared)}
            },
        },
        **error_responses(),
    }
    shared[ERROR] = _ERROR
    return extra, shared


ERROR = "Error"
# Every operation may answer these; each has the one error body.
_ERRORS = {
    "400": "Invalid input: the message names the field and the problem",
    "401": "No valid token: missing, malformed, unknown, expired or revoked",
    "403": "The token's principal has no grant for this action here",
    "404": "Not found, or not visible to the caller",
    "409": "Conflicts with the current state (already exists, in use, a concurrent change)",
    "413": "The body is over the server's size limit, or the upload over the caller's quota",
}


def error_responses() -> dict[str, Any]:
    """The error answers of every route, all with the error body (published as a component)."""
    content = {"application/json": {"schema": {"$ref": _REF + ERROR}}}
    return {
        **{status: {"description": text, "content": content} for status, text in _ERRORS.items()},
        "default": {"description": "Any other error (422, 500, 503)", "content": content},
    }


def stream_openapi(op: Operation[Any, Any]) -> dict[str, Any]:
    """A Server-Sent Events route that streams what ``op`` lists: its query parameters, a
    ``Last-Event-ID`` to resume, and ``text/event-stream`` for an answer."""
    extra = operation_openapi(op)
    extra["parameters"] = [
        *extra["parameters"],
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "description": "Resume after this event id (takes the place of 'since').",
            "schema": {"type": "string", "pattern": "^[0-9]{1,10}$"},
        },
    ]
    extra["responses"][str(op.status)] = {
        "description": "Events as they happen: 'id:', 'event:' (the kind) and 'data:' (JSON)",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
    return extra


def object_openapi(path_params: tuple[str, ...], method: str, tag_scope: str) -> dict[str, Any]:
    """The raw-bytes routes take no model, so their parameters and answers are spelled here."""
    params = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _DIGEST if name == "digest" else TypeAdapter(Name).json_schema(),
        }
        for name in path_params
    ]
    if method == "GET":
        params.append(ACTING_PARAMETER)
    digest_header = {DIGEST_HEADER: {"description": "sha256 of the bytes", "schema": _DIGEST}}
    binary = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    if method == "PUT":
        return {
            "parameters": params,
            "requestBody": {"required": True, "content": binary},
            "responses": {
                "201": {"description": f"Stored in {tag_scope}", "headers": digest_header},
                **error_responses(),
            },
        }
    return {
        "parameters": params,
        "responses": {
            "200": {"description": "The bytes", "headers": digest_header, "content": binary},
            **error_responses(),
        },
    }


_DIGEST: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}


def install_components(app: FastAPI, components: dict[str, Any]) -> None:
    """Publish the recursive models that ``operation_openapi`` left as references."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document.setdefault("components", {}).setdefault("schemas", {}).update(components)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _inline(
    schema: Any, defs: dict[str, Any], shared: dict[str, Any], stack: tuple[str, ...] = ()
) -> Any:
    """Replace ``$ref`` to local definitions by the definitions, so fragments stand alone."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF):
            name = ref.removeprefix(_REF)
            if name in defs:
                if name not in stack:
                    return _inline(defs[name], defs, shared, (*stack, name))
                # A model that contains itself: inlining would never end, so keep the
                # reference and publish the model once as a component.
                if name not in shared:
                    shared[name] = {}  # stops re-entry while the model is expanded
                    shared[name] = _inline(defs[name], defs, shared, (name,))
                return schema
        return {k: _inline(v, defs, shared, stack) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, defs, shared, stack) for v in schema]
    return schema
