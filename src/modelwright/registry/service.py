"""Registry operations. Each function is one operation: ``(ctx, request) -> response``.

Who may do what: registering a version and moving aliases needs ``model.register`` in the
environment concerned; reading a version needs ``data.read`` in an environment where it is
available (where it was registered, or promoted to). Every mutation is audited, in the same
transaction as the change, so a refused request leaves nothing behind.

The operations live by concept (``versions``: models and their versions; ``aliases``: aliases
and their history); this module is the one place the operations table and other services
name them.
"""

from __future__ import annotations

from modelwright.registry._lookup import available_in, available_version
from modelwright.registry.aliases import (
    alias_history,
    delete_alias,
    move_alias,
    resolve_alias,
    set_alias,
)
from modelwright.registry.versions import (
    get_model,
    get_version,
    list_models,
    list_versions,
    register_version,
    update_model,
    update_version,
    use_version,
)

__all__ = [
    "alias_history",
    "available_in",
    "available_version",
    "delete_alias",
    "get_model",
    "get_version",
    "list_models",
    "list_versions",
    "move_alias",
    "register_version",
    "resolve_alias",
    "set_alias",
    "update_model",
    "update_version",
    "use_version",
]
