"""``Authorization: Bearer <token>``: the one parser of the header, and the one writer."""

from __future__ import annotations

import re

__all__ = ["MAX_TOKEN_CHARS", "authorization", "bearer_token"]

# A token is a few dozen visible ASCII characters; anything longer or stranger is refused
# before it is hashed, cached or looked up.
MAX_TOKEN_CHARS = 1024
_TOKEN = re.compile(r"[\x21-\x7e]+")


def bearer_token(value: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` value; ``ValueError`` saying what is
    wrong with it."""
    scheme, _, secret = value.strip(" ").partition(" ")
    secret = secret.strip(" ")
    if scheme.lower() != "bearer":
        raise ValueError("no 'Bearer' scheme")
    if not secret:
        raise ValueError("no token after 'Bearer'")
    if len(secret) > MAX_TOKEN_CHARS:
        raise ValueError(
            f"the token is {len(secret)} characters, more than the {MAX_TOKEN_CHARS} allowed"
        )
    if not _TOKEN.fullmatch(secret):
        raise ValueError("the token holds characters other than visible ASCII")
    return secret


def authorization(token: str | None) -> dict[str, str]:
    """The header that sends ``token``; none without one."""
    return {"Authorization": f"Bearer {token}"} if token else {}
