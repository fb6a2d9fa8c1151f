"""Signing in (with a token or a one-time link) and out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput, ModelwrightError, Unauthenticated
from modelwright.ui.auth import UiAuth, read_form, safe_next
from modelwright.ui.render import page
from modelwright.ui.views._base import Endpoint, Me, signed_in

__all__ = ["ROUTES"]


async def sign_in_form(request: Request) -> Response:
    auth: UiAuth = request.app.state.ui_auth
    target = safe_next(request.query_params.get("next"))
    nonce = request.query_params.get("once")
    if nonce:
        token = auth.redeem(nonce)
        if token is None:
            error = Unauthenticated("this sign-in link was used already or has expired")
            return page("sign_in.html", 401, me=None, next=target, error=error)
        response = RedirectResponse(target, 303)
        auth.sign_in(response, request, token)
        return response
    return page("sign_in.html", me=None, next=target, error=None)


async def sign_in(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    auth: UiAuth = request.app.state.ui_auth
    fields = read_form(await request.body())
    target = safe_next(fields.get("next"))
    try:
        auth.check_post(request, None, None)
        token = fields.get("token", "").strip()
        if not token:
            raise InvalidInput("token: paste a token (modelwright token create prints one)")
        await run_in_threadpool(auth.authenticate, platform, token)
    except ModelwrightError as exc:
        return page("sign_in.html", exc.status, me=None, next=target, error=exc)
    response = RedirectResponse(target, 303)
    auth.sign_in(response, request, token)
    return response


@signed_in
async def sign_out(me: Me) -> Response:
    await me.form()
    response = RedirectResponse("/sign-in", 303)
    me.auth.sign_out(response)
    return response


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/sign-in", sign_in_form, ["GET"]),
    ("/sign-in", sign_in, ["POST"]),
    ("/sign-out", sign_out, ["POST"]),
]
