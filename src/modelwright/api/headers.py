"""Request headers that carry context beside an operation's own fields."""

from __future__ import annotations

from modelwright.core.names import check_name

__all__ = ["ENVIRONMENT_HEADER", "parse_acting"]

# The environment the caller acts in: "env" (in the workspace of what it touches) or
# "workspace/env". Reading production data needs a production one.
ENVIRONMENT_HEADER = "X-Modelwright-Environment"


def parse_acting(value: str | None) -> str | None:
    """The declared acting environment, checked; ``None`` when none is declared."""
    if value is None or not value.strip():
        return None
    workspace, slash, environment = value.strip().partition("/")
    field = ENVIRONMENT_HEADER
    if slash:
        check_name(workspace, f"{field} (workspace)")
        check_name(environment, f"{field} (environment)")
        return f"{workspace}/{environment}"
    return check_name(workspace, field)
