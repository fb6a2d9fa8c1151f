"""The embedded platform: one database, one artifact store, and units of work over them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from modelwright.core.context import Caller, Context, utcnow
from modelwright.errors import Conflict, NotFound
from modelwright.settings import Settings
from modelwright.store import db, schema
from modelwright.store.db import create_db_engine, session_factory
from modelwright.store.migrate import upgrade

if TYPE_CHECKING:
    from modelwright.store.artifacts import ArtifactStore

__all__ = ["LOCAL_ADMIN", "Platform"]

# Seeded by the first migration with an admin grant on every workspace and environment;
# the embedded backend acts as this principal unless settings require a token.
LOCAL_ADMIN = "admin"
# Seconds between two sweeps of expired idempotency keys by one platform (a delete using
# the index on their time, after a write).
_SWEEP_EVERY = 600.0


class Platform:
    """Opens (and migrates) the metadata store; hands out one ``Context`` per operation."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.engine = create_db_engine(self.settings.database_url)
        upgrade(self.engine)
        self._sessions = session_factory(self.engine)
        self._lock = threading.Lock()
        self._artifacts: ArtifactStore | None = None
        self._opened: dict[str, ArtifactStore] = {}
        self._swept_at: float | None = None

    @property
    def artifacts(self) -> ArtifactStore:
        """The platform's own artifact store (run artifacts, model files)."""
        if self._artifacts is None:
            from modelwright.store.artifacts import open_artifact_store

            with self._lock:
                if self._artifacts is None:
                    self._artifacts = open_artifact_store(
                        self.settings.artifacts_url, **dict(self.settings.artifact_options)
                    )
        return self._artifacts

    @contextmanager
    def unit(
        self, caller: Caller, *, reading_only: bool = False, acting: str | None = None
    ) -> Iterator[Context]:
        """One transaction: committed when the block ends, rolled back entirely on error.

        Services check names and states before writing, but two requests can pass the same
        check at once (two creates of one name); the database's constraints then refuse the
        second, which becomes a ``Conflict`` for its caller instead of a driver error.

        A database that cannot answer (a dropped connection, a lock held past the busy
        timeout) becomes ``ServiceUnavailable``, one that cannot store (a full disk, a
        read-only file) a ``StorageError``: errors the caller can act on, never driver errors.

        ``acting``: the environment the caller declares it acts in (``Context.acting``).

        ``reading_only``: the block only reads (a permission check before moving bytes), so
        on SQLite it does not take the write lock that other writers queue for.
        """
        try:
            with (
                db.reading_only() if reading_only else nullcontext(),
                self._sessions() as session,
                session.begin(),
            ):
                yield Context(session=session, caller=caller, stores=self, acting=acting)
        except IntegrityError as exc:
            raise Conflict(
                "another request changed the same records at the same time, so nothing of "
                f"this one was written; retry it ({_constraint(exc)})",
                details={"constraint": _constraint(exc)},
            ) from None
        except DBAPIError as exc:
            error = db.database_error(exc)
            if error is None:
                raise
            raise error from exc
        if not reading_only:
            self._sweep_idempotency_keys()

    def _sweep_idempotency_keys(self) -> None:
        """Delete the keys older than the retention, in a transaction of its own, when due."""
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at < _SWEEP_EVERY:
            return
        self._swept_at = now
        cutoff = utcnow() - timedelta(hours=self.settings.idempotency_retention_hours)
        try:
            with self._sessions() as session, session.begin():
                session.execute(
                    delete(schema.IdempotencyKey).where(schema.IdempotencyKey.created_at < cutoff)
                )
        except DBAPIError:
            pass  # housekeeping: the next sweep deletes them

    def open(self, url: str) -> ArtifactStore:
        """The content-addressed store at a datastore URL (cached: opening S3 is not free)."""
        from modelwright.store.artifacts import open_artifact_store

        with self._lock:
            store = self._opened.get(url)
            if store is None:
                store = self._opened[url] = open_artifact_store(url)
            return store

    def caller(self, name: str) -> Caller:
        with self._sessions() as session:
            pid = session.scalar(select(schema.Principal.id).where(schema.Principal.name == name))
        if pid is None:
            raise NotFound(f"principal '{name}' not found")
        return Caller(name=name, principal_id=pid)

    def close(self) -> None:
        self.engine.dispose()


def _constraint(exc: IntegrityError) -> str:
    """The driver's one-line reason (e.g. "UNIQUE constraint failed: workspaces.name")."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "integrity error"
