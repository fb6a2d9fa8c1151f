"""How much a request may carry: body size limits and the upload quota hook.

A body over its limit is refused from ``Content-Length`` before any of it is read; a chunked
body (no ``Content-Length``) is read only up to the limit. Either way the answer is 413 and
the connection is closed, so the rest of the body is never read.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Protocol

from starlette.requests import Request

from modelwright.errors import InvalidInput, TooLarge

__all__ = [
    "UploadQuota",
    "body_chunks",
    "check_declared",
    "declared_length",
    "load_upload_quota",
    "read_body",
]


class UploadQuota(Protocol):
    """Asked before the server accepts an upload of ``size`` bytes from ``principal``.

    Return to accept; raise ``modelwright.errors.QuotaExceeded`` (413) to refuse, with a
    message the uploader can act on. It runs on a worker thread, so it may query a database.
    ``size`` comes from ``Content-Length`` before the body is read, or is counted once a
    chunked body has been read (and before anything is stored).
    """

    def __call__(self, principal: str, size: int) -> None: ...


def load_upload_quota(spec: str | None) -> UploadQuota | None:
    """The quota named ``"package.module:function"`` (``MODELWRIGHT_UPLOAD_QUOTA``), if any."""
    if spec is None:
        return None
    module, _, name = spec.partition(":")
    try:
        quota = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            f"upload_quota: cannot load {spec!r} ({exc})", details={"field": "upload_quota"}
        ) from None
    if not callable(quota):
        raise InvalidInput(
            f"upload_quota: {spec!r} is not callable", details={"field": "upload_quota"}
        )
    return quota  # type: ignore[no-any-return]


def declared_length(request: Request) -> int | None:
    """The body's ``Content-Length``, or None when it is chunked."""
    header = request.headers.get("content-length")
    if header is None:
        return None
    if not header.isdigit():
        raise InvalidInput(
            f"Content-Length: expected a number of bytes (got {header[:40]!r})",
            details={"field": "Content-Length"},
        )
    return int(header)


def _too_large(what: str, limit: int, setting: str, size: int | None) -> TooLarge:
    got = f"{size} bytes" if size is not None else "the body"
    return TooLarge(
        f"{what}: {got} is more than the server's limit of {limit} bytes "
        f"(MODELWRIGHT_{setting.upper()})",
        details={"field": what, "limit": limit, **({"size": size} if size is not None else {})},
    )


def check_declared(request: Request, limit: int, what: str, setting: str) -> int | None:
    """Refuse from ``Content-Length`` alone; return it (None for a chunked body)."""
    size = declared_length(request)
    if size is not None and size > limit:
        raise _too_large(what, limit, setting, size)
    return size


async def body_chunks(
    request: Request, limit: int, what: str, setting: str
) -> AsyncIterator[bytes]:
    """The body's chunks, stopping with 413 as soon as more than ``limit`` bytes arrived."""
    check_declared(request, limit, what, setting)
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _too_large(what, limit, setting, None)
        yield chunk


async def read_body(request: Request, limit: int, what: str, setting: str) -> bytes:
    return b"".join([chunk async for chunk in body_chunks(request, limit, what, setting)])
