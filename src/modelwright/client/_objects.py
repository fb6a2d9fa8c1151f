"""Moving object bytes: straight into the stores in process, or as raw HTTP bodies."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from modelwright.api.headers import ENVIRONMENT_HEADER
from modelwright.api.objects import object_path
from modelwright.client._errors import raise_for_error, unanswered
from modelwright.errors import ArtifactCorrupted, InvalidInput
from modelwright.objects.models import ObjectScope

if TYPE_CHECKING:
    import httpx  # only an HTTP transport, which imports it first, calls in here

__all__ = [
    "ObjectSource",
    "check_source",
    "http_get_object",
    "http_get_object_file",
    "http_put_object",
    "sha256_of",
]

ObjectSource = Path | bytes
_CHUNK = 1024 * 1024


def sha256_of(source: ObjectSource) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    sha = hashlib.sha256()
    with source.open("rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def check_source(source: ObjectSource) -> None:
    """Refuse a path that names no file, whichever transport would move it."""
    if isinstance(source, Path) and not source.is_file():
        raise InvalidInput(f"'{source}' is not a file", details={"path": str(source)})


def _file_chunks(path: Path, on_bytes: Callable[[int], None] | None) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if on_bytes is not None:
                on_bytes(len(chunk))
            yield chunk


def http_put_object(
    http: httpx.Client,
    scope: ObjectScope,
    source: ObjectSource,
    digest: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> str:
    """Upload once under its digest (hashed here unless given), the bytes counted through
    ``on_bytes`` as they go; the server re-hashes and refuses a mismatch."""
    import httpx

    check_source(source)
    digest = digest or sha256_of(source)
    content = source if isinstance(source, bytes) else _file_chunks(source, on_bytes)
    try:
        response = http.put(
            object_path(scope, digest),
            content=content,
            headers={"Content-Type": "application/octet-stream"},
            timeout=None,
        )
    except httpx.TransportError as exc:
        raise unanswered(exc, http.base_url) from None
    raise_for_error(response)
    if isinstance(source, bytes) and on_bytes is not None:
        on_bytes(len(source))
    return digest


@contextmanager
def _get(
    http: httpx.Client, scope: ObjectScope, digest: str, acting: str | None
) -> Iterator[httpx.Response]:
    import httpx

    headers = {ENVIRONMENT_HEADER: acting} if acting else None
    try:
        with http.stream(
            "GET", object_path(scope, digest), timeout=None, headers=headers
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_error(response)
            yield response
    except httpx.TransportError as exc:
        raise unanswered(exc, http.base_url) from None


def http_get_object(
    http: httpx.Client, scope: ObjectScope, digest: str, *, acting: str | None = None
) -> bytes:
    """Download and verify the bytes; ``acting``: another environment than the client's."""
    with _get(http, scope, digest, acting) as response:
        data = response.read()
    _check(hashlib.sha256(data), digest, http, scope)
    return data


def http_get_object_file(
    http: httpx.Client,
    scope: ObjectScope,
    digest: str,
    dest: Path,
    *,
    acting: str | None = None,
) -> Path:
    """Download to ``dest``, which appears only when complete and verified."""
    sha = hashlib.sha256()
    with _get(http, scope, digest, acting) as response:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in response.iter_bytes(_CHUNK):
                    sha.update(chunk)
                    f.write(chunk)
            _check(sha, digest, http, scope)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return dest


def _check(sha: hashlib._Hash, digest: str, http: httpx.Client, scope: ObjectScope) -> None:
    if sha.hexdigest() != digest:
        raise ArtifactCorrupted(
            f"object {digest} from {http.base_url} ({scope.describe()}) arrived with sha256 "
            f"{sha.hexdigest()}: refusing to use it",
            details={"digest": digest},
        )
