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
    from modelwright import sklearn
    from modelwright._fluent import (
        active_run,
        end_run,
        flush,
        get_client,
        get_run,
        load_dataset,
        load_model,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_input,
        log_metric,
        log_metrics,
        log_model,
        log_param,
        log_params,
        log_table,
        log_text,
        register_dataset,
        search_runs,
        set_experiment,
        set_platform,
        set_tag,
        set_tags,
        start_run,
    )
    from modelwright.autologging import autolog
    from modelwright.client import Client, connect

__version__ = "0.1.0"

# The module-level SDK (``mw.start_run`` ...), loaded on first use.
_FLUENT = {
    "active_run",
    "end_run",
    "flush",
    "get_client",
    "get_run",
    "load_dataset",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_dataset",
    "search_runs",
    "set_experiment",
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
    "autolog",
    "connect",
    "end_run",
    "flush",
    "get_client",
    "get_run",
    "load_dataset",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_dataset",
    "search_runs",
    "set_experiment",
    "set_platform",
    "set_tag",
    "set_tags",
    "sklearn",
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
    if name == "autolog":
        from modelwright.autologging import autolog

        return autolog
    if name == "sklearn":
        # ``mw.sklearn.autolog()``: the submodule, imported on first use like the rest.
        import importlib

        return importlib.import_module("modelwright.sklearn")
    raise AttributeError(f"module 'modelwright' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Editors and ``dir(mw)`` list the lazily loaded SDK as well.
    return sorted({*globals(), *__all__})
