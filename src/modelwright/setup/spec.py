"""The shape of platform.yaml."""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import ConfigDict, Field, model_validator

from modelwright.access.models import PrincipalKind
from modelwright.core.actions import BUILTIN_ROLES, Action
from modelwright.core.models import Request
from modelwright.core.names import Name, unique_names
from modelwright.workspaces.models import EnvironmentSpec, default_environments

API_VERSION: Final = "modelwright/v1"


class RoleSpec(Request):
    name: Name
    description: str = Field(default="", max_length=2000)
    actions: list[Action] = Field(min_length=1)

    @model_validator(mode="after")
    def _not_builtin(self) -> RoleSpec:
        if self.name in BUILTIN_ROLES:
            raise ValueError(f"'{self.name}' is a built-in role and cannot be redefined")
        return self


class PrincipalSpec(Request):
    name: Name
    kind: PrincipalKind = "user"
    display_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)


class PlatformGrantSpec(Request):
    """A role in every workspace and environment (platform administrators, auditors)."""

    principal: Name
    role: Name


class GrantSpec(Request):
    principal: Name
    role: Name
    environments: Literal["*"] | list[Name] = "*"


class WorkspaceSpec(Request):
    name: Name
    description: str = Field(default="", max_length=2000)
    environments: list[EnvironmentSpec] = Field(default_factory=default_environments, min_length=1)
    grants: list[GrantSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> WorkspaceSpec:
        names = [e.name for e in self.environments]
        unique_names(names, "environment")
        for g in self.grants:
            if g.environments != "*":
                for env in g.environments:
                    if env not in names:
                        raise ValueError(
                            f"grant of role '{g.role}' to '{g.principal}' names environment "
                            f"'{env}', which workspace '{self.name}' does not declare"
                        )
        return self


class PlatformSpec(Request):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    api_version: Literal["modelwright/v1"] = Field(default=API_VERSION, alias="apiVersion")
    roles: list[RoleSpec] = Field(default_factory=list)
    principals: list[PrincipalSpec] = Field(default_factory=list)
    grants: list[PlatformGrantSpec] = Field(default_factory=list)
    workspaces: list[WorkspaceSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> PlatformSpec:
        unique_names([r.name for r in self.roles], "role")
        unique_names([p.name for p in self.principals], "principal")
        unique_names([w.name for w in self.workspaces], "workspace")
        return self


def dotted(loc: tuple[Any, ...]) -> str:
    """``("workspaces", 0, "name")`` → ``workspaces[0].name``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
