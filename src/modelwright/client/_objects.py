"""Moving object bytes: straight into the stores in process, or as raw HTTP bodies."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from modelwright.api.objects import object_path
from modelwright.errors import ArtifactCorrupted, InvalidInput, ServiceUnavailable
from modelwright.objects.models import ObjectScope

if TYPE_CHECKING:
    import httpx  # only an HTTP transport, which imports it first, calls in here

__all__ = ["ObjectSource", "http_get_object", "http_put_object", "sha256_of"]

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


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            yield chunk


def http_put_object(
    http: httpx.Client, scope: ObjectScope, source: ObjectSource, digest: str | None = None
) -> str:
    """Upload once under its digest; the server re-hashes and refuses a mismatch."""
    import httpx

    from modelwright.client._transport import raise_for_error

    if isinstance(source, Path) and not source.is_file():
        raise InvalidInput(f"'{source}' is not a file", details={"path": str(source)})
    digest = digest or sha256_of(source)
    content = source if isinstance(source, bytes) else _file_chunks(source)
    try:
        response = http.put(
            object_path(scope, digest),
            content=content,
            headers={"Content-Type": "application/octet-stream"},
            timeout=None,
        )
    except httpx.TransportError as exc:
        raise ServiceUnavailable(f"cannot reach {http.base_url}: {exc}") from None
    raise_for_error(response)
    return digest


def http_get_object(
    http: httpx.Client,
    scope: ObjectScope,
    digest: str,
    dest: Path | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> bytes | Path:
    """Download and verify; a file destination appears only when complete and verified."""
    import httpx

    from modelwright.client._transport import raise_for_error

    sha = hashlib.sha256()
    try:
        with http.stream(
            "GET", object_path(scope, digest), timeout=None, headers=headers
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise_for_error(response)
            if dest is None:
                data = response.read()
                sha.update(data)
                _check(sha, digest, http, scope)
                return data
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
    except httpx.TransportError as exc:
        raise ServiceUnavailable(f"cannot reach {http.base_url}: {exc}") from None


def _check(sha: hashlib._Hash, digest: str, http: httpx.Client, scope: ObjectScope) -> None:
    if sha.hexdigest() != digest:
        raise ArtifactCorrupted(
            f"object {digest} from {http.base_url} ({scope.describe()}) arrived with sha256 "
            f"{sha.hexdigest()}: refusing to use it",
            details={"digest": digest},
        )
