"""Error bodies of the serving routes: each route answers in the shape its callers parse.

* the Open Inference Protocol (``/v2``): ``{"error": "<message>"}``, as the protocol says;
* anything else: the platform's ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["Protocol", "error_body", "protocol_of"]

Protocol = Literal["oip", "platform"]


def protocol_of(path: str) -> Protocol:
    """The protocol of a path, by its route: ``…/v2…`` is the Open Inference Protocol."""
    if path.startswith("/v2") or "/v2/" in path or path.endswith("/v2"):
        return "oip"
    return "platform"


def error_body(status: int, code: str, message: str, protocol: Protocol) -> dict[str, Any]:
    if protocol == "oip":
        return {"error": message}
    return {"error": {"code": code, "message": message, "details": {}}}
