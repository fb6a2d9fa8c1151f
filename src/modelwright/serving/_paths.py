"""Request paths as the router reads them: normalised, then matched against what it serves.

The router forwards a request to a deployment's workers, so a path must never be able to
name another host or another route: ``//host:port/x`` read as an authority, ``%2F`` decoded
into a separator after matching, ``..`` climbing out of the endpoint. A path is therefore
split on ``/`` into segments, each one percent-decoded only where it encodes an unreserved
character (RFC 3986 §6.2.2.2: ``%41`` is ``A``) and refused otherwise, then matched segment
by segment; the path forwarded is rebuilt from the checked segments alone.
"""

from __future__ import annotations

import re
import string

__all__ = ["MAX_PATH_BYTES", "BadPath", "model_server_route", "segments"]

MAX_PATH_BYTES = 2048
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_NAMED = {"/": "'/'", "\\": "a backslash", ".": "'.'", "%": "'%'", "@": "'@'", ":": "':'"}


class BadPath(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def segments(raw_path: bytes) -> list[str]:
    """The segments of ``raw_path`` (as sent, still percent-encoded), normalised and checked:
    each is letters, digits, ``-``, ``.``, ``_`` or ``~``, and none is empty, ``.`` or ``..``."""
    if len(raw_path) > MAX_PATH_BYTES:
        raise BadPath(f"path: longer than {MAX_PATH_BYTES} bytes ({len(raw_path)})")
    if not raw_path.startswith(b"/"):
        raise BadPath("path: must start with '/'")
    out = []
    for part in raw_path[1:].split(b"/"):
        if not part:
            raise BadPath("path: empty segment ('//' or a trailing '/') is not allowed")
        segment = _decode(part)
        if segment in (".", ".."):
            raise BadPath(f"path: dot segment {_shown(part)} is not allowed")
        out.append(segment)
    return out


def _decode(part: bytes) -> str:
    def unescape(match: re.Match[bytes]) -> bytes:
        char = chr(int(match.group(1), 16))
        if char not in _UNRESERVED:
            what = _NAMED.get(char, repr(char))
            raise BadPath(
                f"path: {match.group(0).decode()} encodes {what}, which a segment may not hold"
            )
        return char.encode()

    decoded = _ESCAPE.sub(unescape, part).decode("latin-1")
    for char in decoded:
        if char not in _UNRESERVED:
            what = _NAMED.get(char, repr(char))
            raise BadPath(
                f"path: segment {_shown(part)} holds {what}; segments are letters, digits, "
                "'-', '.', '_' and '~'"
            )
    return decoded


def _shown(part: bytes) -> str:
    text = part.decode("latin-1")
    return repr(text if len(text) <= 64 else text[:64] + "…")


def model_server_route(tail: list[str]) -> bool:
    """Whether ``tail`` (the segments after the endpoint's name) is a route of the model
    server; the router forwards nothing else."""
    if tail in (
        ["invocations"],
        ["ping"],
        ["health"],
        ["version"],
        ["v2"],
        ["v2", "health", "live"],
        ["v2", "health", "ready"],
    ):
        return True
    if len(tail) < 3 or tail[:2] != ["v2", "models"]:
        return False
    rest = tail[3:]
    if len(rest) >= 2 and rest[0] == "versions":
        rest = rest[2:]
    return rest in ([], ["ready"], ["infer"])
