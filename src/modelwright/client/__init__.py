"""The SDK: ``connect()`` returns a ``Client`` over an embedded platform or a remote server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelwright.client._client import Client, connect
from modelwright.client._tracking import ActiveRun
from modelwright.client._transport import HttpTransport, Transport

if TYPE_CHECKING:
    from modelwright.client._local import LocalTransport

__all__ = ["ActiveRun", "Client", "HttpTransport", "LocalTransport", "Transport", "connect"]


def __getattr__(name: str) -> Any:
    # The embedded transport loads the services and the database: only when asked for.
    if name == "LocalTransport":
        from modelwright.client._local import LocalTransport

        return LocalTransport
    raise AttributeError(f"module 'modelwright.client' has no attribute {name!r}")
