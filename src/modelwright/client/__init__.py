"""The SDK: ``connect()`` returns a ``Client`` over an embedded platform or a remote server."""

from modelwright.client._client import Client, connect
from modelwright.client._tracking import ActiveRun
from modelwright.client._transport import HttpTransport, LocalTransport, Transport

__all__ = ["ActiveRun", "Client", "HttpTransport", "LocalTransport", "Transport", "connect"]
