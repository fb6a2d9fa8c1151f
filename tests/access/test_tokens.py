"""API tokens: random, shown once, stored only as a hash, with expiry and revocation.

Every bad token (expired, revoked, malformed, unknown) is ``Unauthenticated`` on both backends:
in process, and over HTTP (a 401 with the JSON error body, turned back into the same class).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from tests.conftest import Connector

from modelwright import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from modelwright.core.platform import Platform
from modelwright.store import schema

Unchanged = Callable[[], AbstractContextManager[None]]
SHAPE = re.compile(r"mwt_[A-Za-z0-9_-]{43}")


def _columns(platform: Platform) -> list[tuple[object, ...]]:
    with platform.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(schema.Token.__table__))]


def test_tokens_are_random_shown_once_and_stored_as_hashes(connector: Connector) -> None:
    admin = connector.admin()
    admin.create_principal("bob")
    first = admin.create_token(principal="bob", name="laptop")
    second = admin.create_token(principal="bob", name="ci")
    for t in (first, second):
        assert SHAPE.fullmatch(t.secret), t.secret
        assert t.prefix == t.secret[:12]
        assert t.principal == "bob"
        assert t.revoked_at is None
        assert t.expires_at is None
    assert first.secret != second.secret

    # Listing never shows the secret.
    listed = admin.list_tokens(principal="bob")
    assert [(t.id, t.name) for t in listed] == [(first.id, "laptop"), (second.id, "ci")]
    assert all(not hasattr(t, "secret") for t in listed)

    # The database has the SHA-256 of the secret and nowhere the secret itself.
    rows = {r[0]: r for r in _columns(connector.platform)}
    for t in (first, second):
        row = rows[t.id]
        assert hashlib.sha256(t.secret.encode()).hexdigest() in row
        assert not any(isinstance(v, str) and t.secret in v for v in row)


def test_a_token_acts_as_its_principal(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_workspace("w")
    admin.create_principal("bob")
    admin.grant("bob", "viewer", "w", "dev")
    bob = connector.as_token(admin.create_token(principal="bob").secret)
    assert bob.whoami().principal == "bob"
    assert bob.check_access("data.read", "w", "dev").allowed is True
    # Principals make and see their own tokens without being admins.
    own = bob.create_token(name="second")
    assert own.principal == "bob"
    assert connector.as_token(own.secret).whoami().principal == "bob"
    assert {t.principal for t in bob.list_tokens()} == {"bob"}
    assert len(bob.list_tokens()) == 2


def test_expired_tokens_are_refused(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_principal("bob")
    soon = datetime.now(UTC) + timedelta(hours=1)
    token = admin.create_token(principal="bob", expires_at=soon)
    assert token.expires_at == soon
    bob = connector.as_token(token.secret)
    assert bob.whoami().principal == "bob"
    # Move the expiry into the past, as if the hour had gone by.
    with connector.platform.engine.begin() as conn:
        conn.execute(
            update(schema.Token)
            .where(schema.Token.id == token.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(Unauthenticated, match=r"token mwt_\S+… expired at "):
        bob.whoami()  # a client connected before the expiry
    with pytest.raises(Unauthenticated, match="expired"):
        connector.as_token(token.secret).whoami()


def test_tokens_expire_by_themselves(connector: Connector) -> None:
    connector.admin()  # start the server (on HTTP) before the clock starts
    expires = datetime.now(UTC) + timedelta(seconds=2)
    token = connector.local_admin.create_token(expires_at=expires)
    client = connector.as_token(token.secret)
    assert client.whoami().principal == "admin"
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.05)
    with pytest.raises(Unauthenticated, match="expired"):
        client.whoami()


def test_revoked_tokens_are_refused(connector: Connector) -> None:
    admin = connector.admin()
    admin.create_principal("bob")
    token = admin.create_token(principal="bob")
    bob = connector.as_token(token.secret)
    assert bob.whoami().principal == "bob"
    revoked = admin.revoke_token(token.id)
    assert revoked.revoked_at is not None
    assert admin.list_tokens(principal="bob")[0].revoked_at == revoked.revoked_at
    # The client that was already connected is refused from the next call on.
    with pytest.raises(Unauthenticated, match=r"token mwt_\S+… was revoked at "):
        bob.whoami()
    with pytest.raises(Unauthenticated, match="revoked"):
        connector.as_token(token.secret).whoami()
    # Revoking again changes nothing.
    assert admin.revoke_token(token.id).revoked_at == revoked.revoked_at


def test_a_principal_can_revoke_its_own_token(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_principal("bob")
    token = admin.create_token(principal="bob")
    bob = connector.as_token(token.secret)
    bob.revoke_token(token.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        bob.whoami()


MALFORMED = [
    "",
    "x",
    "mwt_",
    "mwt_short",
    "Bearer mwt_" + "a" * 43,
    "mwt_" + "a" * 42,
    "mwt_" + "a" * 44,
    "mwt_" + "a" * 42 + "!",
    "xyz_" + "a" * 43,
    "mwt_" + "a" * 42 + "\u00e9",
]


def test_malformed_and_unknown_tokens_are_refused(connector: Connector) -> None:
    for bad in MALFORMED:
        if connector.kind == "http" and not bad.isascii():
            continue  # not sendable in an HTTP header at all
        with pytest.raises(Unauthenticated) as exc:
            connector.as_token(bad).whoami()
        expected = "malformed" if bad else ("malformed", "missing")
        assert exc.value.message.startswith(expected), (bad, exc.value.message)
    unknown = "mwt_" + "A" * 43
    with pytest.raises(Unauthenticated, match="unknown token"):
        connector.as_token(unknown).whoami()


def test_bad_expiry_and_other_peoples_tokens_are_refused(
    connector: Connector, unchanged: Unchanged
) -> None:
    admin = connector.local_admin
    admin.create_principal("bob")
    admin.create_principal("carol")
    carols = admin.create_token(principal="carol")
    bob = connector.as_principal("bob")
    client = connector.admin()
    with unchanged():
        with pytest.raises(InvalidInput, match="expires_at: must be in the future"):
            client.create_token(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        with pytest.raises(InvalidInput, match="expires_at: give a timezone"):
            client.create_token(expires_at=datetime(2999, 1, 1))  # naive on purpose
        with pytest.raises(InvalidInput, match="name"):
            client.create_token(name="n" * 65)
        with pytest.raises(PermissionDenied, match="only its own"):
            bob.create_token(principal="carol")
        with pytest.raises(PermissionDenied, match="only its own"):
            bob.list_tokens(principal="carol")
        # Another's token is not found, as one that does not exist: ids are sequential.
        with pytest.raises(NotFound, match=f"token {carols.id} not found"):
            bob.revoke_token(carols.id)
        with pytest.raises(NotFound, match="token 424242 not found"):
            client.revoke_token(424242)
    # Carol's token still works.
    assert connector.as_token(carols.secret).whoami().principal == "carol"
