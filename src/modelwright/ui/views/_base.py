"""What every page shares: the signed-in principal of a request and the guard that makes one.

Each page reads the request, calls operations as the signed-in principal (the same services
and permission checks as the REST API) and renders a template; none holds a business rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from modelwright.api import Operation
from modelwright.api.invoke import parse_request, run_operation
from modelwright.core.context import Caller
from modelwright.core.platform import Platform
from modelwright.errors import ModelwrightError, Unauthenticated
from modelwright.objects.models import ObjectScope
from modelwright.objects.service import store_for_read
from modelwright.ui.auth import CSRF_FIELD, CSRF_HEADER, UiAuth, read_form
from modelwright.ui.render import page

__all__ = ["Endpoint", "Me", "column_value", "signed_in"]

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class Me:
    """The signed-in principal of one request."""

    request: Request
    platform: Platform
    auth: UiAuth
    token: str
    caller: Caller

    @property
    def csrf(self) -> str:
        return self.auth.csrf(self.token)

    def path(self, *names: str) -> dict[str, str]:
        """These parameters of the request's path, by name (as an operation's fields)."""
        return {n: self.request.path_params[n] for n in names}

    async def call(self, op: Operation[Any, Any], **fields: Any) -> Any:
        req = parse_request(op, fields)
        return await run_in_threadpool(run_operation, self.platform, self.caller, op, req)

    def open_artifact(self, digest: str) -> IO[bytes]:
        """An artifact's bytes (call it in a thread), after the object-read check of the
        REST API's object route, for the same principal."""
        with self.platform.unit(self.caller, reading_only=True) as ctx:
            store = store_for_read(ctx, ObjectScope.artifacts(), digest)
        return store.open(digest)

    async def form(self) -> dict[str, str]:
        """The posted form, after the origin and CSRF checks."""
        fields = read_form(await self.request.body())
        sent = fields.get(CSRF_FIELD) or self.request.headers.get(CSRF_HEADER)
        self.auth.check_post(self.request, self.token, sent)
        return fields

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        return page(template, status, me=self, **context)


Handler = Callable[[Me], Awaitable[Response]]


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for a signed-in principal: others go to the sign-in page (and come back);
    a platform error becomes an error page with its status, never a traceback."""

    async def endpoint(request: Request) -> Response:
        platform: Platform = request.app.state.platform
        auth: UiAuth = request.app.state.ui_auth
        try:
            token, caller = await run_in_threadpool(auth.caller, platform, request)
        except Unauthenticated as exc:
            if request.method != "GET":
                return page("error.html", 401, me=None, error=exc)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", 303)
        me = Me(request, platform, auth, token, caller)
        try:
            return await handler(me)
        except ModelwrightError as exc:
            return me.render("error.html", exc.status, error=exc)

    return endpoint


def column_value(run: Any, column: str) -> Any:
    """A run's value in a column named as the search language names it (``metrics.auc``,
    ``params.depth``, ``tags.team``); ``None`` where the run has none."""
    kind, _, key = column.partition(".")
    return {"metrics": run.metrics, "params": run.params, "tags": run.tags}.get(kind, {}).get(key)
