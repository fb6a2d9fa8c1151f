"""How a client call reaches the services: in process, or over HTTP to a server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from modelwright.api.headers import ENVIRONMENT_HEADER, parse_acting
from modelwright.api.operation import Operation
from modelwright.client._objects import ObjectSource, http_get_object, http_put_object
from modelwright.client._retry import resending
from modelwright.errors import (
    InvalidInput,
    ModelwrightError,
    ServiceUnavailable,
    Unauthenticated,
    error_class_for_code,
)
from modelwright.objects.models import ObjectScope

# The transports import their heavy parts (httpx; the services and the database) when one is
# made: a script pays only for the transport it uses.
if TYPE_CHECKING:
    import httpx

    from modelwright.core.context import Caller, Context
    from modelwright.core.platform import Platform

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")


class Transport(Protocol):
    # The environment the caller acts in ("env" or "workspace/env"), sent with every call:
    # reading production data needs a production one.
    acting: str | None
    # The platform itself when it runs in this process (embedded): jobs can run right here.
    local_platform: Platform | None

    def call(self, op: Operation[Req, Resp], req: Req) -> Resp: ...

    def put_object(self, scope: ObjectScope, source: ObjectSource) -> str:
        """Store a file or bytes where ``scope`` says; return the sha256 digest."""
        ...

    def get_object(
        self,
        scope: ObjectScope,
        digest: str,
        dest: Path | None = None,
        *,
        acting: str | None = None,
    ) -> bytes | Path:
        """The verified bytes, or the path of a verified copy written to ``dest``; ``acting``
        declares another environment than the transport's for this call."""
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

    def put_object(self, scope: ObjectScope, source: ObjectSource) -> str:
        from modelwright.objects.service import record_upload, store_for_write
        from modelwright.store.artifacts import location_of, storage_errors

        with self.unit(reading_only=True) as ctx:  # the check only reads
            store = store_for_write(ctx, scope)
            admin = ctx.is_platform_admin()
        if not isinstance(source, bytes) and not source.is_file():
            raise InvalidInput(f"'{source}' is not a file", details={"path": str(source)})
        # The bytes move outside the transaction: no database lock is held while copying.
        with storage_errors(scope.describe(), location_of(store)):
            digest = (
                store.put_bytes(source) if isinstance(source, bytes) else store.put_file(source)
            )
        if not admin and scope.kind == "artifacts":  # an admin needs no claim
            with self.unit() as ctx:
                record_upload(ctx, scope, digest)
        return digest

    def get_object(
        self,
        scope: ObjectScope,
        digest: str,
        dest: Path | None = None,
        *,
        acting: str | None = None,
    ) -> bytes | Path:
        from modelwright.objects.service import store_for_read

        with self.unit(reading_only=True, acting=acting) as ctx:
            store = store_for_read(ctx, scope, digest)
        if dest is None:
            return store.get_bytes(digest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return store.get_file(digest, dest)

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

        headers = {"Authorization": f"Bearer {token}"} if token else {}
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
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Never sent: sending it again cannot apply it twice.
            raise ServiceUnavailable(f"cannot reach {self.http.base_url}: {exc}") from None
        except httpx.TransportError as exc:
            if op.may_resend(req):
                raise ServiceUnavailable(f"no answer from {self.http.base_url}: {exc}") from None
            raise ServiceUnavailable(
                f"no answer from {self.http.base_url} to {op.name} ({exc}); the request may "
                "have been applied: not sent again, as it carries no idempotency key",
                details={"operation": op.name},
            ) from None
        if response.status_code >= 400:
            raise _error(response)
        return op.response_adapter.validate_json(response.content)

    def put_object(self, scope: ObjectScope, source: ObjectSource) -> str:
        return http_put_object(self.http, scope, source)

    def get_object(
        self,
        scope: ObjectScope,
        digest: str,
        dest: Path | None = None,
        *,
        acting: str | None = None,
    ) -> bytes | Path:
        headers = {ENVIRONMENT_HEADER: acting} if acting else None
        return http_get_object(self.http, scope, digest, dest, headers=headers)

    def close(self) -> None:
        self.http.close()


def raise_for_error(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise _error(response)


def _body(op: Operation[Req, Resp], req: Req) -> bytes:
    # pydantic's JSON keeps NaN and infinities as strings ("NaN") where a model asks for it.
    return req.model_dump_json(
        exclude=set(op.path_params), exclude_unset=True, by_alias=True
    ).encode()


def _query(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if v is not None}


def _error(response: httpx.Response) -> ModelwrightError:
    try:
        body = response.json()["error"]
        cls = error_class_for_code(str(body["code"]))
        return cls(str(body["message"]), details=body.get("details") or {})
    except (ValueError, KeyError, TypeError):
        text = f"HTTP {response.status_code} from server: {response.text[:200]}"
        if response.status_code in (502, 503, 504):  # a proxy in front of a server that is down
            return ServiceUnavailable(text)
        return ModelwrightError(text)
