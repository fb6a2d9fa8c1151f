"""What an HTTP exchange with a server that went wrong becomes: one of the platform's errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelwright.errors import ModelwrightError, ServiceUnavailable, error_class_for_code

if TYPE_CHECKING:
    import httpx  # only an HTTP transport, which imports it first, calls in here

__all__ = ["error_from", "raise_for_error", "unanswered"]

# Answers of a proxy in front of a server that is down.
_GATEWAY_DOWN = (502, 503, 504)


def error_from(response: httpx.Response) -> ModelwrightError:
    """The error a server's error body names; a body that names none (a proxy's page) is
    ``ServiceUnavailable`` for a gateway error, else the base class."""
    try:
        body = response.json()["error"]
        cls = error_class_for_code(str(body["code"]))
        return cls(str(body["message"]), details=body.get("details") or {})
    except (ValueError, KeyError, TypeError):
        text = f"HTTP {response.status_code} from server: {response.text[:200]}"
        if response.status_code in _GATEWAY_DOWN:
            return ServiceUnavailable(text)
        return ModelwrightError(text)


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise error_from(response)


def unanswered(
    exc: httpx.TransportError,
    base_url: object,
    *,
    operation: str | None = None,
    resend: bool = True,
) -> ServiceUnavailable:
    """A request that got no answer. One never sent (no connection) cannot have been applied;
    one that may have reached the server is named, and said not to have been sent again when
    ``resend`` is false (it carries no idempotency key). Object transfers (no ``operation``)
    are keyed by their digest: sending them again cannot apply them twice."""
    import httpx

    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if never_sent or operation is None:
        return ServiceUnavailable(f"cannot reach {base_url}: {exc}")
    if resend:
        return ServiceUnavailable(f"no answer from {base_url}: {exc}")
    return ServiceUnavailable(
        f"no answer from {base_url} to {operation} ({exc}); the request may have been "
        "applied: not sent again, as it carries no idempotency key",
        details={"operation": operation},
    )
