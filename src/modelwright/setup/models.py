"""Requests and responses of the setup operations."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from modelwright.core.models import Request
from modelwright.setup.spec import PlatformSpec

Kind = Literal["role", "principal", "workspace", "environment", "datastore", "grant"]
ChangeAction = Literal["create", "update", "unchanged", "remove"]


class ApplyRequest(Request):
    spec: PlatformSpec
    dry_run: bool = Field(default=False, description="Only compute and return the plan.")
    prune: bool = Field(
        default=False,
        description="Also remove workspaces, principals and custom roles that the file does "
        "not declare (inside declared workspaces, removal is always part of the plan).",
    )


class Change(BaseModel):
    action: ChangeAction
    kind: Kind
    key: str
    changes: dict[str, list[Any]] = Field(
        default_factory=dict, description="For updates: field → [current, declared]."
    )


class Plan(BaseModel):
    changes: list[Change]
    applied: bool

    def count(self, action: ChangeAction) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def has_changes(self) -> bool:
        return any(c.action != "unchanged" for c in self.changes)
