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
    from modelwright._fluent import *  # noqa: F403  (the names of __all__ that live there)
    from modelwright.autologging import autolog
    from modelwright.client import Client, connect

__version__ = "0.1.0"

# The one list of the public names. It is written out (not computed) because type checkers
# read only a literal ``__all__``; it lives here because ``import modelwright`` loads nothing
# more than this module and the errors.
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
    "delete_run",
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
    "restore_run",
    "search_runs",
    "set_experiment",
    "set_platform",
    "set_tag",
    "set_tags",
    "sklearn",
    "start_run",
]

# Where the names of ``__all__`` not defined above are loaded from on first use, so that
# importing a low layer (errors, store) never drags in the client stack. The rest is the
# module-level SDK (``mw.start_run`` ...) of ``modelwright._fluent``.
_HOMES = {
    "Client": "modelwright.client",
    "connect": "modelwright.client",
    "autolog": "modelwright.autologging",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'modelwright' has no attribute {name!r}")
    if name == "sklearn":
        # ``mw.sklearn.autolog()``: the submodule, imported on first use like the rest.
        import importlib

        return importlib.import_module("modelwright.sklearn")
    # As ``from <home> import <name>`` does: with a from-list, the module itself comes back.
    return getattr(__import__(_HOMES.get(name, "modelwright._fluent"), fromlist=[name]), name)


def __dir__() -> list[str]:
    # Editors and ``dir(mw)`` list the lazily loaded SDK as well.
    return sorted({*globals(), *__all__})
