"""modelwright: a self-hosted MLOps platform.

``modelwright.connect(...)`` returns a client that talks to an embedded platform
(``connect("./.modelwright")``) or to a server (``connect("http://host:8080", token=...)``)
through the same methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelwright.errors import (
    AlreadyExists,
    ArtifactCorrupted,
    Conflict,
    GateFailed,
    InvalidInput,
    ModelwrightError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

if TYPE_CHECKING:
    from modelwright._fluent import (
        active_run,
        end_run,
        flush,
        get_client,
        load_dataset,
        load_model,
        log_artifact,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        register_dataset,
        set_platform,
        set_tag,
        set_tags,
        start_run,
    )
    from modelwright.client import Client, connect

__version__ = "0.1.0"

# The module-level SDK (``mw.start_run`` ...), loaded on first use.
_FLUENT = {
    "active_run",
    "end_run",
    "flush",
    "get_client",
    "load_dataset",
    "load_model",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "register_dataset",
    "set_platform",
    "set_tag",
    "set_tags",
    "start_run",
}

__all__ = [
    "AlreadyExists",
    "ArtifactCorrupted",
    "Client",
    "Conflict",
    "GateFailed",
    "InvalidInput",
    "ModelwrightError",
    "NotFound",
    "PermissionDenied",
    "Unauthenticated",
    "__version__",
    "active_run",
    "connect",
    "end_run",
    "flush",
    "get_client",
    "load_dataset",
    "load_model",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "register_dataset",
    "set_platform",
    "set_tag",
    "set_tags",
    "start_run",
]


def __getattr__(name: str) -> Any:
    # Lazy so that importing a low layer (errors, store) never drags in the client stack.
    if name in {"connect", "Client"}:
        from modelwright import client

        return getattr(client, name)
    if name in _FLUENT:
        from modelwright import _fluent

        return getattr(_fluent, name)
    raise AttributeError(f"module 'modelwright' has no attribute {name!r}")
