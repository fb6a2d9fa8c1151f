"""Signing in to the web UI: a token once, then a session cookie; CSRF on every post.

The cookie holds the token itself (HttpOnly, so no script reads it; SameSite=Strict, so no
other site's page sends it; Secure under TLS). Every request authenticates it as the REST API
authenticates a bearer token, so revoking or expiring the token ends the session too.

State-changing requests need two things a forged request lacks: an ``Origin`` (or, failing
that, a ``Referer``) of this server, and a CSRF token sent as a form field or an
``X-CSRF-Token`` header. The CSRF token is an HMAC keyed by the session's token, which no
other site can read, so every worker process of a server computes the same one without a
shared secret, and knowing it reveals nothing of the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import Response

from modelwright.access.tokens import authenticate_on
from modelwright.core.context import Caller
from modelwright.core.platform import Platform
from modelwright.errors import PermissionDenied, Unauthenticated

__all__ = ["COOKIE", "CSRF_FIELD", "CSRF_HEADER", "UiAuth", "read_form", "safe_next"]

COOKIE = "mw_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def read_form(body: bytes) -> dict[str, str]:
    """A posted ``application/x-www-form-urlencoded`` body (the UI's forms send no files)."""
    return dict(parse_qsl(body.decode(errors="replace")))


class UiAuth:
    """Sessions, CSRF tokens, and the process's one-time sign-in links."""

    def __init__(self) -> None:
        self._once: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    # -- sessions ----------------------------------------------------------------------------
    def caller(self, platform: Platform, request: Request) -> tuple[str, Caller]:
        """The session's token and principal; ``Unauthenticated`` without a valid one."""
        token = request.cookies.get(COOKIE)
        if not token:
            raise Unauthenticated("not signed in")
        return token, self.authenticate(platform, token)

    def authenticate(self, platform: Platform, token: str) -> Caller:
        return authenticate_on(platform, token)

    def sign_in(self, response: Response, request: Request, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")

    # -- CSRF --------------------------------------------------------------------------------
    def csrf(self, token: str) -> str:
        return hmac.new(token.encode(), b"modelwright ui csrf", hashlib.sha256).hexdigest()

    def check_post(self, request: Request, token: str | None, sent: str | None) -> None:
        """Refuse a state-changing request from another origin, or one without the session's
        CSRF token (``token`` is None for the sign-in form, which has no session yet)."""
        if not same_origin(request):
            raise PermissionDenied("the request did not come from this server's pages")
        if token is not None and not (sent and hmac.compare_digest(sent, self.csrf(token))):
            raise PermissionDenied("missing or wrong CSRF token: reload the page and try again")

    # -- one-time links ----------------------------------------------------------------------
    def one_time_link(self, token: str, ttl: float = 600.0) -> str:
        """A nonce that signs in as ``token`` once, within ``ttl`` seconds (what
        ``modelwright ui`` prints, as Jupyter prints its link)."""
        nonce = secrets.token_urlsafe(24)
        with self._lock:
            self._once[nonce] = (token, time.monotonic() + ttl)
        return nonce

    def redeem(self, nonce: str) -> str | None:
        with self._lock:
            token, until = self._once.pop(nonce, ("", 0.0))
        return token if token and time.monotonic() < until else None


def same_origin(request: Request) -> bool:
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this server only (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
