"""Error bodies of the serving routes: each route answers in the shape its callers parse.

* ``/invocations``: MLflow's scoring server, ``{"error_code": "BAD_REQUEST", "message": …}``
  (the codes are those MLflow gives each HTTP status);
* the Open Inference Protocol (``/v2``): ``{"error": "<message>"}``, as the protocol says;
* anything else: the platform's ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["MLFLOW_ERROR_CODES", "Protocol", "error_body", "protocol_of"]

Protocol = Literal["mlflow", "oip", "platform"]

# MLflow's own mapping of statuses to its error codes (mlflow.exceptions); other 4xx are
# BAD_REQUEST, other 5xx INTERNAL_ERROR.
MLFLOW_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def protocol_of(path: str) -> Protocol:
    """The protocol of a path, by its route: ``…/v2…`` or ``…/invocations``."""
    if path.endswith("/invocations"):
        return "mlflow"
    if path.startswith("/v2") or "/v2/" in path or path.endswith("/v2"):
        return "oip"
    return "platform"


def error_body(status: int, code: str, message: str, protocol: Protocol) -> dict[str, Any]:
    if protocol == "mlflow":
        default = "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"
        return {"error_code": MLFLOW_ERROR_CODES.get(status, default), "message": message}
    if protocol == "oip":
        return {"error": message}
    return {"error": {"code": code, "message": message, "details": {}}}
