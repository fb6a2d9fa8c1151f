"""Requests and responses of the access operations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from modelwright.core.actions import Action
from modelwright.core.ints import DbInt32
from modelwright.core.models import Request
from modelwright.core.names import Name, ScopeName
from modelwright.core.pages import PageParams

PrincipalKind = Literal["user", "service"]
Scope = str  # a name, or "*" for all


class PrincipalInfo(BaseModel):
    name: str
    kind: PrincipalKind
    display_name: str = ""
    email: str = ""
    created_at: datetime


class RoleInfo(BaseModel):
    name: str
    description: str
    actions: list[Action]
    builtin: bool


class GrantInfo(BaseModel):
    principal: str
    role: str
    workspace: Scope
    environment: Scope


class TokenInfo(BaseModel):
    id: int
    principal: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenInfo):
    secret: str = Field(description="The token itself. Shown once; only its hash is stored.")


class WhoAmI(BaseModel):
    principal: str
    grants: list[GrantInfo]


class AccessDecision(BaseModel):
    principal: str
    action: Action
    workspace: str
    environment: str
    allowed: bool
    reason: str


class CreatePrincipal(Request):
    name: Name
    kind: PrincipalKind = "user"
    display_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320)


class DeletePrincipal(Request):
    principal: Name


class CreateRole(Request):
    name: Name
    description: str = Field(default="", max_length=2000)
    actions: list[Action] = Field(min_length=1)


class GrantRequest(Request):
    principal: Name
    role: Name
    workspace: ScopeName
    environment: ScopeName = "*"


class ListPrincipals(PageParams, Request):
    pass


class ListRoles(PageParams, Request):
    pass


class ListGrants(PageParams, Request):
    principal: str | None = None
    workspace: str | None = None


class CreateToken(Request):
    principal: Name | None = Field(default=None, description="Defaults to the caller.")
    name: str = Field(default="", max_length=64)
    expires_at: datetime | None = Field(
        default=None, description="UTC expiry; none means the token does not expire."
    )


class ListTokens(PageParams, Request):
    principal: str | None = None


class RevokeToken(Request):
    token_id: DbInt32


class CheckAccess(Request):
    action: Action
    workspace: ScopeName
    environment: ScopeName = "*"
    principal: Name | None = Field(default=None, description="Defaults to the caller.")
