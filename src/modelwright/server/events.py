"""``GET /api/v1/events/stream``: domain events as Server-Sent Events.

The stream polls the events table (about every half second) through the same operation as
``GET /api/v1/events``, so it shows exactly what the caller may read. Each event carries its
id (``id:``), so a client that reconnects with ``Last-Event-ID`` (browsers do it by
themselves) resumes after the last event it received; events become visible in id order, so
none is missed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from modelwright.api.jobs import LIST_EVENTS
from modelwright.core.context import Caller
from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput
from modelwright.events.models import EventInfo, EventsQuery
from modelwright.server.openapi import stream_openapi

__all__ = ["STREAM_PATH", "add_event_stream"]

STREAM_PATH = "/api/v1/events/stream"
POLL_SECONDS = 0.5
# A comment line now and then, so that proxies keep the connection and a gone client is noticed.
KEEPALIVE_SECONDS = 15.0

Authenticate = Callable[[Platform, Request], Caller]
Invalid = Callable[[ValidationError], InvalidInput]


def add_event_stream(
    app: FastAPI,
    authenticate: Authenticate,
    invalid: Invalid,
    *,
    path: str = STREAM_PATH,
    name: str = "stream_events",
    in_schema: bool = True,
) -> None:
    """Serve the stream at ``path`` for callers ``authenticate`` names (the API's bearer
    tokens; the web UI's pages, at their own path, by their session cookie)."""

    async def stream(request: Request) -> StreamingResponse:
        platform: Platform = request.app.state.platform
        caller = await run_in_threadpool(authenticate, platform, request)
        fields = dict(request.query_params)
        resume = request.headers.get("last-event-id")
        if resume:
            fields["since"] = resume
        try:
            query = EventsQuery.model_validate(fields)
        except ValidationError as exc:
            raise invalid(exc) from None
        # Checked now, so a refused filter is an error status rather than an empty stream.
        await run_in_threadpool(_read, platform, caller, query.model_copy(update={"limit": 1}))
        return StreamingResponse(
            _events(request, platform, caller, query),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    app.add_api_route(
        path,
        stream,
        methods=["GET"],
        name=name,
        include_in_schema=in_schema,
        summary="Domain events as Server-Sent Events (resume with Last-Event-ID)",
        tags=["events"],
        response_model=None,
        openapi_extra=stream_openapi(LIST_EVENTS),
    )


def _read(platform: Platform, caller: Caller, query: EventsQuery) -> list[EventInfo]:
    with platform.unit(caller, reading_only=True) as ctx:
        return LIST_EVENTS.run(ctx, query)


def _message(e: EventInfo) -> bytes:
    return f"id: {e.id}\nevent: {e.kind}\ndata: {e.model_dump_json()}\n\n".encode()


async def _events(
    request: Request, platform: Platform, caller: Caller, query: EventsQuery
) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        events = await run_in_threadpool(_read, platform, caller, query)
        for e in events:
            yield _message(e)
        if events:
            query = query.model_copy(update={"since": events[-1].id})
            quiet_since = time.monotonic()
            if len(events) == query.limit:
                continue  # more are waiting
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            yield b": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)
