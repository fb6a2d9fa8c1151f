"""OpenAPI fragments for the generic routes: parameters and body from the request model."""

from __future__ import annotations

import copy
import functools
from typing import Any

from fastapi import FastAPI
from pydantic import TypeAdapter

from modelwright.api import Operation

__all__ = ["install_components", "operation_openapi"]

_REF = "#/components/schemas/"


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
    extra["parameters"] = params
    extra["responses"] = {
        str(op.status): {
            "description": "Success",
            "content": {
                "application/json": {"schema": _inline(response_schema, response_defs, shared)}
            },
        },
        "default": {
            "description": "Error: {'error': {'code', 'message', 'details'}}",
            "content": {"application/json": {"schema": _ERROR}},
        },
    }
    return extra, shared


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
