"""Response headers every answer of the server carries."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_PREFIX", "SecurityHeaders", "security_headers"]

API_PREFIX = "/api/"


def security_headers(path: str) -> dict[str, str]:
    """``nosniff`` everywhere: a browser must not guess that JSON or an uploaded object is
    HTML or script. ``no-store`` on the API: every answer is specific to the caller's token
    and some carry secrets (a new token's secret, datastore URLs that may embed
    credentials), so no browser or proxy may keep a copy."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if path.startswith(API_PREFIX):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """ASGI middleware adding ``security_headers`` to every response (500s are answered
    outside the middleware stack, so their handler adds them itself)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
