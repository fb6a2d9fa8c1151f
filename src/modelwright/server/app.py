"""Build the FastAPI application from ``OPERATIONS``.

Every route is the same few lines: authenticate the bearer token, turn path, query and body
into the operation's request model, run the service function in one transaction on a worker
thread, render the response. No route holds business logic or opens a session itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic_core import from_json
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from modelwright import __version__
from modelwright.access.tokens import authenticate_on
from modelwright.api import OPERATIONS, Operation
from modelwright.api.headers import ENVIRONMENT_HEADER, parse_acting
from modelwright.api.invoke import invalid_input, parse_request, run_operation
from modelwright.core.bearer import bearer_token
from modelwright.core.context import Caller
from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput, ModelwrightError, Unauthenticated
from modelwright.server import metrics
from modelwright.server.events import add_event_stream
from modelwright.server.headers import SecurityHeaders, security_headers
from modelwright.server.limits import UploadQuota, load_upload_quota, read_body
from modelwright.server.objects import add_object_routes
from modelwright.server.openapi import install_components, operation_openapi
from modelwright.settings import Settings
from modelwright.ui import UI_EVENTS, add_ui

if TYPE_CHECKING:
    from modelwright.workflows import Worker

__all__ = ["app_from_settings", "app_with_worker_from_settings", "create_app"]

_ANONYMOUS = Caller(name="", principal_id=0)


def create_app(
    platform: Platform,
    *,
    upload_quota: UploadQuota | None = None,
    worker: Worker | None = None,
) -> FastAPI:
    """The REST app over ``platform``. ``upload_quota`` defaults to the one its settings name;
    ``worker`` (if any) runs workflows while it serves."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)

    app = FastAPI(
        title="modelwright",
        version=__version__,
        description="Self-hosted MLOps platform. Authenticate with `Authorization: Bearer <token>`.",
        # The default pages load Swagger UI and ReDoc from a CDN; /docs is served from the
        # package instead, so it works offline and sends nothing to a third party.
        docs_url=None,
        redoc_url=None,
        # Operation ids are the operations' names, so generated clients read like the SDK.
        generate_unique_id_function=lambda route: route.name,
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    app.state.platform = platform
    app.state.upload_quota = upload_quota or load_upload_quota(platform.settings.upload_quota)
    components: dict[str, Any] = {}
    for op in OPERATIONS:
        _add_route(app, op, components)
    install_components(app, components)
    add_object_routes(app, _authenticate)
    add_event_stream(app, _authenticate, invalid_input)
    _add_error_handlers(app)

    @app.get("/healthz", tags=["server"], summary="Liveness and database reachability")
    def healthz() -> Response:
        with platform.unit(_ANONYMOUS) as ctx:
            ctx.session.connection()
        return json_response({"status": "ok", "version": __version__}, 200)

    _add_docs(app)
    # The web UI at "/": pages over the same operations, for a signed-in principal; its pages
    # follow the same events, signed in by their session cookie.
    ui_auth = add_ui(app)
    add_event_stream(
        app,
        lambda p, request: ui_auth.caller(p, request)[1],
        invalid_input,
        path=UI_EVENTS,
        name="ui_events",
        in_schema=False,
    )

    @app.get("/metrics", tags=["server"], summary="Prometheus metrics", include_in_schema=False)
    def prometheus() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)

    return app


_STATIC = Path(__file__).parent / "static"


def _add_docs(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="modelwright API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
            # Otherwise Swagger UI sends the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )


def app_from_settings() -> FastAPI:
    """The app over the stores named by ``MODELWRIGHT_*`` settings (uvicorn factory)."""
    return create_app(Platform(Settings()))


def app_with_worker_from_settings() -> FastAPI:
    """The same, with a workflow worker in the process (``modelwright server``'s default):
    workflows come from the entry points and ``MODELWRIGHT_WORKFLOW_MODULES``."""
    from modelwright.workflows import Worker, load_workflows

    settings = Settings()
    load_workflows(settings.workflow_modules)
    platform = Platform(settings)
    return create_app(platform, worker=Worker(platform))


def _add_route(app: FastAPI, op: Operation[Any, Any], components: dict[str, Any]) -> None:
    platform_ref: list[Platform] = []

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            if not platform_ref:
                platform_ref.append(request.app.state.platform)
            platform = platform_ref[0]
            caller = await run_in_threadpool(_authenticate, platform, request)
            req = _parse(
                op, request.path_params, dict(request.query_params), await _body(request, op)
            )
            acting = parse_acting(request.headers.get(ENVIRONMENT_HEADER))
            result = await run_in_threadpool(run_operation, platform, caller, op, req, acting)
            status = op.status
            return Response(_dump(op, result), status_code=status, media_type="application/json")
        except ModelwrightError as exc:
            status = exc.status
            raise
        finally:
            metrics.observe(op.name, status, time.perf_counter() - started)

    app.add_api_route(
        _route_path(op),
        endpoint,
        methods=[op.method],
        name=op.name,
        summary=op.summary,
        tags=[op.tag],
        status_code=op.status,
        response_model=None,
        openapi_extra=operation_openapi(op, components),
    )


def _route_path(op: Operation[Any, Any]) -> str:
    """``op.path`` for the router: a parameter whose values may contain '/' (metric keys such
    as "val/loss", sent as %2F and decoded before routing) matches across segments. The
    OpenAPI document keeps the plain ``{name}``."""
    properties = op.request.model_json_schema().get("properties", {})

    def convert(match: re.Match[str]) -> str:
        pattern = properties.get(match[1], {}).get("pattern")
        slash = pattern is not None and re.search(pattern, "a/b") is not None
        return f"{{{match[1]}:path}}" if slash else match[0]

    return re.sub(r"{(\w+)}", convert, op.path)


def _authenticate(platform: Platform, request: Request) -> Caller:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing token: send 'Authorization: Bearer <token>'")
    try:
        secret = bearer_token(header)
    except ValueError as exc:
        raise Unauthenticated(
            f"malformed Authorization header: {exc}; expected 'Bearer <token>'"
        ) from None
    return authenticate_on(platform, secret)


async def _body(request: Request, op: Operation[Any, Any]) -> dict[str, Any]:
    if not op.has_body:
        return {}
    limit = request.app.state.platform.settings.max_body_bytes
    raw = await read_body(request, limit, "request body", "max_body_bytes")
    if not raw.strip():
        return {}
    try:
        # Not orjson here: it reads integers past 64 bits as floats, so -2**63 - 1 would
        # arrive as -2**63; pydantic's parser keeps every integer exact.
        data = from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput("request body must be a JSON object")
    return data


def _parse(
    op: Operation[Any, Any], path: dict[str, Any], query: dict[str, str], body: dict[str, Any]
) -> BaseModel:
    return parse_request(op, {**query, **body, **path})


def _dump(op: Operation[Any, Any], result: Any) -> bytes:
    return op.response_adapter.dump_json(result, by_alias=True)


def json_response(body: Any, status: int) -> Response:
    response = Response(orjson.dumps(body), status_code=status, media_type="application/json")
    if status in _CLOSE_AFTER:
        response.headers["Connection"] = "close"
    return response


# After a refused body the rest of it is still on the wire, and after an unexpected error the
# connection's state is unknown: neither connection is reused.
_CLOSE_AFTER = frozenset({413, 500})


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelwrightError)
    async def _known(request: Request, exc: ModelwrightError) -> Response:
        return json_response(exc.to_body(), exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        err = InvalidInput(f"invalid request: {exc.errors()[0].get('msg', 'bad input')}")
        return json_response(err.to_body(), err.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {"error": {"code": code, "message": str(exc.detail), "details": {}}}
        return json_response(body, exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Never a traceback to the caller; the server log has it.
        body = {"error": {"code": "internal", "message": "internal server error", "details": {}}}
        response = json_response(body, 500)
        # Starlette answers a 500 outside the middleware stack, past SecurityHeaders.
        response.headers.update(security_headers(request.url.path))
        return response
