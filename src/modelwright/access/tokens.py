"""API tokens: random secrets, stored only as SHA-256 hashes, with expiry and revocation."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.core.context import Caller, utcnow
from modelwright.errors import Unauthenticated
from modelwright.store import schema

if TYPE_CHECKING:
    from modelwright.core.platform import Platform

__all__ = ["PREFIX", "authenticate", "authenticate_on", "hash_secret", "new_secret"]

PREFIX = "mwt_"
# 32 random bytes, urlsafe base64 without padding: 43 characters.
_SHAPE = re.compile(rf"{PREFIX}[A-Za-z0-9_-]{{43}}")


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast unsalted hash is enough (unlike passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


def authenticate(session: Session, secret: str) -> Caller:
    """The principal a token stands for, or ``Unauthenticated`` saying what is wrong with it."""
    if not _SHAPE.fullmatch(secret):
        raise Unauthenticated(f"malformed token: expected '{PREFIX}' followed by 43 characters")
    row = session.execute(
        select(schema.Token, schema.Principal.name)
        .join(schema.Principal, schema.Token.principal_id == schema.Principal.id)
        .where(schema.Token.token_hash == hash_secret(secret))
    ).first()
    if row is None:
        raise Unauthenticated("unknown token")
    token, principal = row
    if token.revoked_at is not None:
        raise Unauthenticated(
            f"token {token.prefix}… was revoked at {token.revoked_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise Unauthenticated(
            f"token {token.prefix}… expired at {token.expires_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    return Caller(name=principal, principal_id=token.principal_id)


_ANONYMOUS = Caller(name="", principal_id=0)


def authenticate_on(platform: Platform, secret: str) -> Caller:
    """``authenticate`` in a unit of its own, as whoever presents a token (the REST API, the
    web UI's session, an in-process client) does before acting. Only reads: on SQLite it does
    not queue behind writers."""
    with platform.unit(_ANONYMOUS, reading_only=True) as ctx:
        return authenticate(ctx.session, secret)
