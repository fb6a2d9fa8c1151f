"""The embedded transport: each operation runs in this process against the platform's database.

Its own module so that a client of a remote platform never loads the services, SQLAlchemy or
the schema: ``connect(path)`` imports it, ``connect(url)`` does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from modelwright.access.tokens import authenticate
from modelwright.api.headers import parse_acting
from modelwright.api.operation import Operation
from modelwright.client._objects import ObjectSource, check_source
from modelwright.client._retry import resending
from modelwright.client._transport import Connection, OnBytes
from modelwright.core.context import Caller, Context
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.errors import Unauthenticated
from modelwright.objects.models import ObjectScope
from modelwright.objects.service import record_upload, store_for_read, store_for_write
from modelwright.store.artifacts import ArtifactStore, location_of, storage_errors

__all__ = ["LocalTransport"]

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")


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

    def connection(self) -> Connection:
        return Connection(
            settings=self.platform.settings,
            token=self._token,
            principal=None if self._token else self.caller.name,
            acting=self.acting,
        )

    def _identify(self, token: str | None, principal: str | None) -> Caller:
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
        with self.unit(reading_only=True) as ctx:  # the check only reads
            store = store_for_write(ctx, scope)
            admin = ctx.is_platform_admin()
        check_source(source)
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
        with self.unit(reading_only=True, acting=acting) as ctx:
            return store_for_read(ctx, scope, digest)

    def open_store(
        self, scope: ObjectScope, *, write: bool, acting: str | None = None
    ) -> ArtifactStore | None:
        with self.unit(reading_only=not write, acting=acting) as ctx:
            return store_for_write(ctx, scope) if write else store_for_read(ctx, scope, "")

    def default_cache_dir(self) -> Path:
        return Path(self.platform.settings.home).resolve() / "cache"

    def close(self) -> None:
        self.platform.close()
