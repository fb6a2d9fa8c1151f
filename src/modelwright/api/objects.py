"""Where stored objects travel over HTTP: raw bytes, outside the JSON operations.

The server's routes and the HTTP client's URLs both come from ``object_path``.
"""

from __future__ import annotations

from urllib.parse import quote

from modelwright.objects.models import ObjectScope

__all__ = ["ARTIFACT_OBJECT", "DATASTORE_OBJECT", "DIGEST_HEADER", "object_path"]

ARTIFACT_OBJECT = "/api/v1/objects/artifacts/{digest}"
DATASTORE_OBJECT = "/api/v1/objects/datastores/{workspace}/{environment}/{datastore}/{digest}"
# The server answers an upload with the digest it computed, so the client can compare.
DIGEST_HEADER = "X-Modelwright-Digest"


def object_path(scope: ObjectScope, digest: str) -> str:
    if scope.kind == "artifacts":
        return ARTIFACT_OBJECT.format(digest=quote(digest, safe=""))
    return DATASTORE_OBJECT.format(
        workspace=quote(scope.workspace, safe=""),
        environment=quote(scope.environment, safe=""),
        datastore=quote(scope.datastore, safe=""),
        digest=quote(digest, safe=""),
    )
