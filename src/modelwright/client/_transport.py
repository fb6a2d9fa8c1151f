"""How a client call reaches the services: in process, or over HTTP to a server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from modelwright.api.headers import ENVIRONMENT_HEADER, parse_acting
from modelwright.api.operation import Operation
from modelwright.client._errors import raise_for_error, unanswered
from modelwright.client._objects import (
    ObjectSource,
    http_get_object,
    http_get_object_file,
    http_put_object,
)
from modelwright.client._retry import resending
from modelwright.core.bearer import authorization
from modelwright.errors import InvalidInput, Unauthenticated
from modelwright.objects.models import ObjectScope

# The transports import their heavy parts (httpx; the services and the database) when one is
# made: a script pays only for the transport it uses.
if TYPE_CHECKING:
    from modelwright.core.context import Caller, Context
    from modelwright.core.platform import Platform
    from modelwright.store.artifacts import ArtifactStore

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")
OnBytes = Callable[[int], None]  # bytes moved so far, reported as they move


class Transport(Protocol):
    # The environment the caller acts in ("env" or "workspace/env"), sent with every call:
    # reading production data needs a production one.
    acting: str | None
    # The platform itself when it runs in this process (embedded): jobs can run right here.
    local_platform: Platform | None

    def call(self, op: Operation[Req, Resp], req: Req) -> Resp: ...

    def put_object(
        self,
        scope: ObjectScope,
        source: ObjectSource,
        *,
        digest: str | None = None,
        on_bytes: OnBytes | None = None,
    ) -> str:
        """Store a file or bytes where ``scope`` says; return the sha256 digest (``digest``:
        already known, not hashed again)."""
        ...

    def get_object(self, scope: ObjectScope, digest: str, *, acting: str | None = None) -> bytes:
        """The verified bytes; ``acting`` declares another environment than the transport's
        for this call."""
        ...

    def get_object_file(
        self, scope: ObjectScope, digest: str, dest: Path, *, acting: str | None = None
    ) -> Path:
        """Write a verified copy to ``dest`` (which appears only whole); return it."""
        ...

    def open_store(
        self, scope: ObjectScope, *, write: bool, acting: str | None = None
    ) -> ArtifactStore | None:
        """The store behind ``scope``, opened once with the caller's permissions, when the
        platform runs in this process: many objects then move without a request each.
        ``None`` when bytes travel through ``put_object`` and ``get_object`` only."""
        ...

    def default_cache_dir(self) -> Path:
        """Where the client caches file hashes and downloads unless told otherwise."""
        ...

    def close(self) -> None: ...


class LocalTransport:
    """Runs each operation in this process, as one transaction, on behalf of one principal."""

    def __init__(
        self,
        platform: Platform,
        *,
        token: str | None = None,
        principal: str | None = None,
        acting: str | None = None,
    ) -> None:
        self.platform = platform
        self.local_platform: Platform | None = platform
        self._token = token
        self.acting = acting
        try:
            self.caller = self._identify(token, principal)
        except BaseException:
            # The transport owns the platform; do not leak its connection pool.
            platform.close()
            raise

    def _identify(self, token: str | None, principal: str | None) -> Caller:
        from modelwright.access.tokens import authenticate
        from modelwright.core.context import Caller
        from modelwright.core.platform import LOCAL_ADMIN

        if token is not None:
            with self.platform.unit(Caller(name="", principal_id=0)) as ctx:
                return authenticate(ctx.session, token)
        if self.platform.settings.require_auth:
            raise Unauthenticated(
                "this platform requires a token (MODELWRIGHT_REQUIRE_AUTH is set)"
            )
        return self.platform.caller(principal or LOCAL_ADMIN)

    def call(self, op: Operation[Req, Resp], req: Req) -> Resp:
        return resending(op, req, lambda: self._run(op, req))

    def _run(self, op: Operation[Req, Resp], req: Req) -> Resp:
        with self.unit(reading_only=op.reads_only) as ctx:
            return op.run(ctx, req)

    @contextmanager
    def unit(self, *, reading_only: bool = False, acting: str | None = None) -> Iterator[Context]:
        """One unit of work as the caller, acting where the transport (or ``acting``) says."""
        with self.platform.unit(
            self.caller, reading_only=reading_only, acting=parse_acting(acting or self.acting)
        ) as unit:
            # Check the token on every call, as the server does, so that revocation and
            # expiry take effect for clients that are already connected.
            if self._token is not None:
                from modelwright.access.tokens import authenticate

                yield unit.as_principal(authenticate(unit.session, self._token))
            else:
                yield unit

    def put_object(
        self,
        scope: ObjectScope,
        source: ObjectSource,
        *,
        digest: str | None = None,
        on_bytes: OnBytes | None = None,
    ) -> str:
        from modelwright.objects.service import record_upload, store_for_write
        from modelwright.store.artifacts import location_of, storage_errors

        with self.unit(reading_only=True) as ctx:  # the check only reads
            store = store_for_write(ctx, scope)
            admin = ctx.is_platform_admin()
        if not isinstance(source, bytes) and not source.is_file():
            raise InvalidInput(f"'{source}' is not a file", details={"path": str(source)})
        # The bytes move outside the transaction: no database lock is held while copying.
        with storage_errors(scope.describe(), location_of(store)):
            if isinstance(source, bytes):
                digest, size = store.put_bytes(source), len(source)
            else:
                digest, size = store.put_file(source), source.stat().st_size
        if on_bytes is not None:
            on_bytes(size)
        if not admin and scope.kind == "artifacts":  # an admin needs no claim
            with self.unit() as ctx:
                record_upload(ctx, scope, digest)
        return digest

    def get_object(self, scope: ObjectScope, digest: str, *, acting: str | None = None) -> bytes:
        return self._store_of(scope, digest, acting).get_bytes(digest)

    def get_object_file(
        self, scope: ObjectScope, digest: str, dest: Path, *, acting: str | None = None
    ) -> Path:
        store = self._store_of(scope, digest, acting)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return store.get_file(digest, dest)

    def _store_of(self, scope: ObjectScope, digest: str, acting: str | None) -> ArtifactStore:
        from modelwright.objects.service import store_for_read

        with self.unit(reading_only=True, acting=acting) as ctx:
            return store_for_read(ctx, scope, digest)

    def open_store(
        self, scope: ObjectScope, *, write: bool, acting: str | None = None
    ) -> ArtifactStore | None:
        from modelwright.objects.service import store_for_read, store_for_write

        with self.unit(reading_only=not write, acting=acting) as ctx:
            return store_for_write(ctx, scope) if write else store_for_read(ctx, scope, "")

    def default_cache_dir(self) -> Path:
        return Path(self.platform.settings.home).resolve() / "cache"

    def close(self) -> None:
        self.platform.close()


class HttpTransport:
    """Sends each operation to a modelwright server, and turns error bodies back into errors."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        acting: str | None = None,
    ) -> None:
        import httpx

        headers = authorization(token)
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout,
            # Retries connection failures only, which never reach the server; a request that
            # may have reached it is sent again only when that cannot apply it twice
            # (``resending``).
            transport=httpx.HTTPTransport(retries=3),
        )
        self.acting = acting
        self.local_platform: Platform | None = None

    @property
    def acting(self) -> str | None:
        value = self.http.headers.get(ENVIRONMENT_HEADER)
        return str(value) if value else None

    @acting.setter
    def acting(self, value: str | None) -> None:
        if value:
            self.http.headers[ENVIRONMENT_HEADER] = value
        else:
            self.http.headers.pop(ENVIRONMENT_HEADER, None)

    def call(self, op: Operation[Req, Resp], req: Req) -> Resp:
        return resending(op, req, lambda: self._send(op, req))

    def _send(self, op: Operation[Req, Resp], req: Req) -> Resp:
        import httpx

        payload = op.payload(req)
        try:
            response = self.http.request(
                op.method,
                op.url_path(req),
                params=None if op.has_body else _query(payload),
                content=_body(op, req) if op.has_body else None,
                headers={"Content-Type": "application/json"} if op.has_body else None,
            )
        except httpx.TransportError as exc:
            raise unanswered(
                exc, self.http.base_url, operation=op.name, resend=op.may_resend(req)
            ) from None
        raise_for_error(response)
        return op.response_adapter.validate_json(response.content)

    def put_object(
        self,
        scope: ObjectScope,
        source: ObjectSource,
        *,
        digest: str | None = None,
        on_bytes: OnBytes | None = None,
    ) -> str:
        return http_put_object(self.http, scope, source, digest, on_bytes)

    def get_object(self, scope: ObjectScope, digest: str, *, acting: str | None = None) -> bytes:
        return http_get_object(self.http, scope, digest, acting=acting)

    def get_object_file(
        self, scope: ObjectScope, digest: str, dest: Path, *, acting: str | None = None
    ) -> Path:
        return http_get_object_file(self.http, scope, digest, dest, acting=acting)

    def open_store(
        self, scope: ObjectScope, *, write: bool, acting: str | None = None
    ) -> ArtifactStore | None:
        return None  # the server's stores are its own: bytes go through its object routes

    def default_cache_dir(self) -> Path:
        import platformdirs

        return Path(platformdirs.user_cache_dir("modelwright", appauthor=False))

    def close(self) -> None:
        self.http.close()


def _body(op: Operation[Req, Resp], req: Req) -> bytes:
    # pydantic's JSON keeps NaN and infinities as strings ("NaN") where a model asks for it.
    return req.model_dump_json(
        exclude=set(op.path_params), exclude_unset=True, by_alias=True
    ).encode()


def _query(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}
