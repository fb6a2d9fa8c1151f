"""How a client call reaches the services: the ``Transport`` interface, and the HTTP transport
to a server (the embedded one is ``client/_local.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import BaseModel

from modelwright.api.headers import ENVIRONMENT_HEADER
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
from modelwright.objects.models import ObjectScope

# httpx is imported when an HTTP transport is made, the services and the database only with the
# embedded transport (client/_local.py): a script pays only for the transport it uses.
if TYPE_CHECKING:
    from modelwright.client._client import Client
    from modelwright.core.platform import Platform
    from modelwright.settings import Settings
    from modelwright.store.artifacts import ArtifactStore

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")
OnBytes = Callable[[int], None]  # bytes moved so far, reported as they move


@dataclass(frozen=True)
class Connection:
    """How another process reaches the same platform as the same caller, acting in the same
    environment (a pipeline's node run by a process pool or on Ray). Picklable."""

    url: str | None = None  # a server's
    settings: Settings | None = None  # an embedded platform's
    token: str | None = None
    principal: str | None = None
    acting: str | None = None

    def connect(self) -> Client:
        from modelwright.client._client import Client

        if self.url is not None:
            return Client(HttpTransport(self.url, token=self.token, acting=self.acting))
        from modelwright.client._local import LocalTransport
        from modelwright.core.platform import Platform
        from modelwright.settings import Settings

        platform = Platform(self.settings or Settings())
        local = LocalTransport(
            platform, token=self.token, principal=self.principal, acting=self.acting
        )
        return Client(local)


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

    def connection(self) -> Connection:
        """How another process connects to the same platform as the same caller."""
        ...

    def close(self) -> None: ...


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
        self._base_url = base_url
        self._token = token

    def connection(self) -> Connection:
        return Connection(url=self._base_url, token=self._token, acting=self.acting)

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
