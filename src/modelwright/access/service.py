"""Access operations. Each function is one operation: ``(ctx, request) -> response``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from modelwright.access import models as m
from modelwright.access.tokens import hash_secret, new_secret
from modelwright.core.actions import ALL, Action
from modelwright.core.context import Caller, Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import get_environment, get_principal, get_role, get_workspace
from modelwright.core.models import Empty, from_row
from modelwright.core.pages import Page
from modelwright.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.store import schema


def principal_info(p: schema.Principal) -> m.PrincipalInfo:
    return from_row(m.PrincipalInfo, p)


def role_info(r: schema.Role) -> m.RoleInfo:
    return m.RoleInfo(
        name=r.name,
        description=r.description,
        actions=[Action(a) for a in r.actions],
        builtin=r.builtin,
    )


def grant_info(g: schema.Grant) -> m.GrantInfo:
    return m.GrantInfo(
        principal=g.principal.name,
        role=g.role.name,
        workspace=g.workspace,
        environment=g.environment,
    )


def _token_info(t: schema.Token) -> m.TokenInfo:
    return from_row(m.TokenInfo, t, principal=t.principal.name)


# -- principals and roles -------------------------------------------------------------------
def whoami(ctx: Context, req: Empty) -> m.WhoAmI:
    rows = ctx.session.scalars(
        select(schema.Grant).where(schema.Grant.principal_id == ctx.caller.principal_id)
    )
    return m.WhoAmI(principal=ctx.caller.name, grants=[grant_info(g) for g in rows])


def list_principals(ctx: Context, req: m.ListPrincipals) -> Page[m.PrincipalInfo]:
    """Platform admins see every principal; others see themselves and the principals of
    their workspaces, with e-mail addresses (their own aside) left out."""
    q = select(schema.Principal)
    admin = ctx.is_platform_admin()
    if not admin:
        mine = {g.workspace for g in ctx.grants()}
        peers = select(schema.Grant.principal_id)
        if ALL not in mine:
            peers = peers.where(schema.Grant.workspace.in_(mine | {ALL}))
        q = q.where(
            or_(schema.Principal.id == ctx.caller.principal_id, schema.Principal.id.in_(peers))
        )
    rows, token = keyset_page(ctx.session, q, [Key(schema.Principal.name)], req, scope="principals")
    items = [
        principal_info(p).model_copy(
            update={} if admin or p.id == ctx.caller.principal_id else {"email": ""}
        )
        for p in rows
    ]
    return Page(items=items, next_page_token=token)


def create_principal(ctx: Context, req: m.CreatePrincipal) -> m.PrincipalInfo:
    ctx.require_platform_admin("create principals")
    if ctx.session.scalar(select(schema.Principal.id).where(schema.Principal.name == req.name)):
        raise AlreadyExists(
            f"principal '{req.name}' already exists", details={"principal": req.name}
        )
    row = schema.Principal(
        name=req.name,
        kind=req.kind,
        display_name=req.display_name,
        email=req.email,
        created_at=utcnow(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    info = principal_info(row)
    ctx.audit(
        "principal.create", target=f"principal/{req.name}", after=info.model_dump(mode="json")
    )
    return info


def delete_principal(ctx: Context, req: m.DeletePrincipal) -> m.PrincipalInfo:
    ctx.require_platform_admin("delete principals")
    row = get_principal(ctx.session, req.principal)
    if row.id == ctx.caller.principal_id:
        raise Conflict("a principal cannot delete itself", details={"principal": req.principal})
    info = principal_info(row)
    ctx.session.delete(row)
    ctx.audit(
        "principal.delete", target=f"principal/{req.principal}", before=info.model_dump(mode="json")
    )
    return info


def list_roles(ctx: Context, req: m.ListRoles) -> Page[m.RoleInfo]:
    rows, token = keyset_page(
        ctx.session,
        select(schema.Role),
        [Key(schema.Role.builtin, descending=True), Key(schema.Role.name)],
        req,
        scope="roles",
    )
    return Page(items=[role_info(r) for r in rows], next_page_token=token)


def create_role(ctx: Context, req: m.CreateRole) -> m.RoleInfo:
    ctx.require_platform_admin("create roles")
    if ctx.session.scalar(select(schema.Role.id).where(schema.Role.name == req.name)):
        raise AlreadyExists(f"role '{req.name}' already exists", details={"role": req.name})
    row = schema.Role(
        name=req.name,
        description=req.description,
        actions=sorted({a.value for a in req.actions}),
        builtin=False,
    )
    ctx.session.add(row)
    ctx.session.flush()
    info = role_info(row)
    ctx.audit("role.create", target=f"role/{req.name}", after=info.model_dump(mode="json"))
    return info


# -- grants ---------------------------------------------------------------------------------
def _check_scope(ctx: Context, workspace: str, environment: str) -> None:
    """A grant names an existing workspace and environment, or ``*``."""
    if workspace == ALL:
        if environment != ALL:
            raise InvalidInput(
                "environment: a grant on every workspace ('*') must also cover every environment",
                details={"field": "environment"},
            )
        return
    if environment == ALL:
        get_workspace(ctx, workspace)
    else:
        get_environment(ctx, workspace, environment)


def _find_grant(ctx: Context, req: m.GrantRequest) -> schema.Grant | None:
    principal = get_principal(ctx.session, req.principal)
    role = get_role(ctx.session, req.role)
    return ctx.session.scalar(
        select(schema.Grant).where(
            schema.Grant.principal_id == principal.id,
            schema.Grant.role_id == role.id,
            schema.Grant.workspace == req.workspace,
            schema.Grant.environment == req.environment,
        )
    )


def list_grants(ctx: Context, req: m.ListGrants) -> Page[m.GrantInfo]:
    query = select(schema.Grant).join(schema.Principal)
    if req.principal:
        query = query.where(schema.Principal.name == req.principal)
    if req.workspace:
        query = query.where(schema.Grant.workspace == req.workspace)

    def sees(g: schema.Grant) -> bool:
        # Everyone sees their own grants; access managers see the grants where they manage.
        mine = g.principal_id == ctx.caller.principal_id
        return mine or ctx.allowed(Action.ACCESS_MANAGE, g.workspace, g.environment)

    keys = [
        Key(schema.Principal.name),
        Key(schema.Grant.workspace),
        Key(schema.Grant.environment),
        Key(schema.Grant.id),
    ]
    rows, token = keyset_page(ctx.session, query, keys, req, scope="grants", visible=sees)
    return Page(items=[grant_info(g) for g in rows], next_page_token=token)


def create_grant(ctx: Context, req: m.GrantRequest) -> m.GrantInfo:
    ctx.require(Action.ACCESS_MANAGE, req.workspace, req.environment)
    _check_scope(ctx, req.workspace, req.environment)
    if _find_grant(ctx, req) is not None:
        raise AlreadyExists(
            f"principal '{req.principal}' already has role '{req.role}' in "
            f"{req.workspace}/{req.environment}",
            details=req.model_dump(),
        )
    row = schema.Grant(
        principal=get_principal(ctx.session, req.principal),
        role=get_role(ctx.session, req.role),
        workspace=req.workspace,
        environment=req.environment,
    )
    ctx.session.add(row)
    ctx.session.flush()
    info = grant_info(row)
    _audit_grant(ctx, "grant.create", req, after=info.model_dump(mode="json"))
    return info


def delete_grant(ctx: Context, req: m.GrantRequest) -> m.GrantInfo:
    ctx.require(Action.ACCESS_MANAGE, req.workspace, req.environment)
    row = _find_grant(ctx, req)
    if row is None:
        raise NotFound(
            f"principal '{req.principal}' has no role '{req.role}' in {req.workspace}/{req.environment}",
            details=req.model_dump(),
        )
    info = grant_info(row)
    ctx.session.delete(row)
    _audit_grant(ctx, "grant.delete", req, before=info.model_dump(mode="json"))
    return info


def _audit_grant(
    ctx: Context,
    action: str,
    req: m.GrantRequest,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    ctx.audit(
        action,
        workspace=_scope_name(req.workspace),
        environment=_scope_name(req.environment),
        target=f"grant/{req.principal}/{req.role}",
        before=before,
        after=after,
    )


def _scope_name(scope: str) -> str:
    return "" if scope == ALL else scope


# -- tokens ---------------------------------------------------------------------------------
def _is_self_or_admin(ctx: Context, principal: str) -> bool:
    return principal == ctx.caller.name or ctx.is_platform_admin()


def _require_self_or_admin(ctx: Context, principal: str, what: str) -> None:
    if not _is_self_or_admin(ctx, principal):
        raise PermissionDenied(
            f"principal '{ctx.caller.name}' may not {what} of principal '{principal}': "
            "only its own, unless a platform admin",
            details={"principal": ctx.caller.name, "target": principal},
        )


def create_token(ctx: Context, req: m.CreateToken) -> m.TokenCreated:
    owner_name = req.principal or ctx.caller.name
    _require_self_or_admin(ctx, owner_name, "create tokens")
    owner = get_principal(ctx.session, owner_name)
    if req.expires_at is not None:
        if req.expires_at.tzinfo is None:
            raise InvalidInput(
                "expires_at: give a timezone (e.g. a trailing Z for UTC)",
                details={"field": "expires_at"},
            )
        if req.expires_at <= utcnow():
            raise InvalidInput("expires_at: must be in the future", details={"field": "expires_at"})
    secret = new_secret()
    row = schema.Token(
        principal=owner,
        name=req.name,
        token_hash=hash_secret(secret),
        prefix=secret[:12],
        created_at=utcnow(),
        expires_at=req.expires_at,
        revoked_at=None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    info = _token_info(row)
    ctx.audit("token.create", target=f"token/{row.id}", after=info.model_dump(mode="json"))
    return m.TokenCreated(**info.model_dump(), secret=secret)


def list_tokens(ctx: Context, req: m.ListTokens) -> Page[m.TokenInfo]:
    query = select(schema.Token).join(schema.Principal)
    if req.principal:
        _require_self_or_admin(ctx, req.principal, "list tokens")
        query = query.where(schema.Principal.name == req.principal)
    elif not ctx.is_platform_admin():
        query = query.where(schema.Token.principal_id == ctx.caller.principal_id)
    rows, token = keyset_page(ctx.session, query, [Key(schema.Token.id)], req, scope="tokens")
    return Page(items=[_token_info(t) for t in rows], next_page_token=token)


def revoke_token(ctx: Context, req: m.RevokeToken) -> m.TokenInfo:
    row = ctx.session.get(schema.Token, req.token_id)
    # Another principal's token is "not found" too: token ids are sequential, and a
    # different answer would tell which exist.
    if row is None or not _is_self_or_admin(ctx, row.principal.name):
        raise NotFound(f"token {req.token_id} not found", details={"token_id": req.token_id})
    before = _token_info(row)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        ctx.session.flush()
    info = _token_info(row)
    ctx.audit(
        "token.revoke",
        target=f"token/{row.id}",
        before=before.model_dump(mode="json"),
        after=info.model_dump(mode="json"),
    )
    return info


# -- the "may I?" check ---------------------------------------------------------------------
def check_access(ctx: Context, req: m.CheckAccess) -> m.AccessDecision:
    """Evaluate a permission exactly as the services do before acting (like ``kubectl auth can-i``)."""
    subject = ctx
    if req.principal and req.principal != ctx.caller.name:
        ctx.require(Action.ACCESS_MANAGE, req.workspace, req.environment)
        other = get_principal(ctx.session, req.principal)
        subject = ctx.as_principal(Caller(name=other.name, principal_id=other.id))
    grant = subject.matching_grant(req.action, req.workspace, req.environment)
    allowed = grant is not None
    if grant is not None:
        reason = f"role '{grant.role}' granted in {grant.workspace}/{grant.environment}"
    else:
        reason = "no grant gives a role with that action there"
    return m.AccessDecision(
        principal=subject.caller.name,
        action=req.action,
        workspace=req.workspace,
        environment=req.environment,
        allowed=allowed,
        reason=reason,
    )
