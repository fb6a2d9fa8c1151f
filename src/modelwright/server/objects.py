"""Raw-bytes routes for stored objects: PUT streams into a store, GET streams out.

An upload is spooled to a temporary file while it is hashed, checked against the digest in
the URL, and only then put into the store (the store writes atomically), so a dropped or
tampered upload never leaves anything behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from modelwright.api.headers import ENVIRONMENT_HEADER, parse_acting
from modelwright.api.objects import ARTIFACT_OBJECT, DATASTORE_OBJECT, DIGEST_HEADER
from modelwright.core.context import Caller
from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput, NotFound
from modelwright.objects.models import ObjectScope
from modelwright.objects.service import record_upload, store_for_read, store_for_write
from modelwright.server.limits import UploadQuota, body_chunks, check_declared
from modelwright.server.openapi import object_openapi
from modelwright.store.artifacts import ArtifactStore, location_of, storage_errors

__all__ = ["add_object_routes"]

Authenticate = Callable[[Platform, Request], Caller]

_PUT_SUMMARY = "Upload an object (raw bytes; the digest in the path is checked)"


def add_object_routes(app: FastAPI, authenticate: Authenticate) -> None:
    routes = (
        (
            ARTIFACT_OBJECT,
            "artifacts",
            "put_artifact_object",
            "get_artifact_object",
            "the artifact store",
        ),
        (
            DATASTORE_OBJECT,
            "datasets",
            "put_datastore_object",
            "get_datastore_object",
            "the datastore",
        ),
    )
    for path, tag, put_name, get_name, where in routes:
        params = tuple(re.findall(r"{(\w+)}", path))
        faces = (
            ("PUT", _put(authenticate), put_name, 201, _PUT_SUMMARY),
            ("GET", _get(authenticate), get_name, None, "Download an object (raw bytes)"),
        )
        for method, endpoint, name, status, summary in faces:
            app.add_api_route(
                path,
                endpoint,
                methods=[method],
                name=name,
                summary=summary,
                tags=[tag],
                status_code=status,
                # Not FastAPI's default class: its JSON content would be documented for bodies
                # these routes never send.
                response_class=Response,
                openapi_extra=object_openapi(params, method, where),
            )


def _scope(request: Request) -> tuple[ObjectScope, str]:
    p = request.path_params
    digest = str(p["digest"])
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InvalidInput(
            "digest: must be 64 lowercase hex characters", details={"field": "digest"}
        )
    if "datastore" in p:
        return ObjectScope.in_datastore(p["workspace"], p["environment"], p["datastore"]), digest
    return ObjectScope.artifacts(), digest


def _put(authenticate: Authenticate) -> Callable[[Request], Awaitable[Response]]:
    async def put_object(request: Request) -> Response:
        platform: Platform = request.app.state.platform
        caller = await run_in_threadpool(authenticate, platform, request)
        scope, digest = _scope(request)
        store = await run_in_threadpool(_store_for_write, platform, caller, scope, digest)
        limit = platform.settings.max_object_bytes
        size = check_declared(request, limit, "object", "max_object_bytes")
        quota: UploadQuota | None = request.app.state.upload_quota
        if quota is not None and size is not None:
            await run_in_threadpool(quota, caller.name, size)
        fd, tmp = tempfile.mkstemp(prefix=".mw-upload-")
        try:
            sha = hashlib.sha256()
            received = 0
            with os.fdopen(fd, "wb") as f:
                async for chunk in body_chunks(request, limit, "object", "max_object_bytes"):
                    sha.update(chunk)
                    f.write(chunk)
                    received += len(chunk)
            if quota is not None and size is None:
                await run_in_threadpool(quota, caller.name, received)
            if sha.hexdigest() != digest:
                raise InvalidInput(
                    f"digest: the body hashes to {sha.hexdigest()}, not {digest}",
                    details={"field": "digest", "actual": sha.hexdigest()},
                )
            stored = await run_in_threadpool(_put_file, store, scope, Path(tmp))
            await run_in_threadpool(_record_upload, platform, caller, scope, stored)
        finally:
            os.unlink(tmp)
        return Response(status_code=201, headers={DIGEST_HEADER: stored})

    return put_object


def _get(authenticate: Authenticate) -> Callable[[Request], Awaitable[Response]]:
    async def get_object(request: Request) -> Response:
        platform: Platform = request.app.state.platform
        caller = await run_in_threadpool(authenticate, platform, request)
        scope, digest = _scope(request)
        acting = parse_acting(request.headers.get(ENVIRONMENT_HEADER))
        store = await run_in_threadpool(_store_for_read, platform, caller, scope, digest, acting)
        if not await run_in_threadpool(store.exists, digest):
            raise NotFound(
                f"object {digest} not found in {scope.describe()}", details={"digest": digest}
            )
        size = await run_in_threadpool(store.size, digest)
        # The client re-hashes what it receives; a corrupted object fails there and here.
        return StreamingResponse(
            store.iter_chunks(digest),
            media_type="application/octet-stream",
            headers={"Content-Length": str(size), DIGEST_HEADER: digest},
        )

    return get_object


def _put_file(store: ArtifactStore, scope: ObjectScope, path: Path) -> str:
    with storage_errors(scope.describe(), location_of(store)):
        return store.put_file(path)


def _store_for_write(
    platform: Platform, caller: Caller, scope: ObjectScope, digest: str
) -> ArtifactStore:
    with platform.unit(caller, reading_only=True) as ctx:
        return store_for_write(ctx, scope, digest)


def _record_upload(platform: Platform, caller: Caller, scope: ObjectScope, digest: str) -> None:
    with platform.unit(caller) as ctx:
        record_upload(ctx, scope, digest)


def _store_for_read(
    platform: Platform, caller: Caller, scope: ObjectScope, digest: str, acting: str | None
) -> ArtifactStore:
    with platform.unit(caller, reading_only=True, acting=acting) as ctx:
        return store_for_read(ctx, scope, digest)
