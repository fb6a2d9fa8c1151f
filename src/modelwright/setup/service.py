"""Setup operations: plan and apply a platform spec in one transaction; export the state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select

from modelwright.core.actions import ALL, BUILTIN_ROLES
from modelwright.core.context import Context, utcnow
from modelwright.core.lookup import get_environment, get_principal, get_role, get_workspace
from modelwright.core.models import Empty
from modelwright.errors import InvalidInput
from modelwright.setup.models import ApplyRequest, Change, Kind, Plan
from modelwright.setup.spec import (
    GrantSpec,
    PlatformGrantSpec,
    PlatformSpec,
    PrincipalSpec,
    RoleSpec,
    WorkspaceSpec,
    dotted,
)
from modelwright.setup.state import KINDS, State, current_state, desired_state
from modelwright.store import schema
from modelwright.workspaces.models import DatastoreSpec, EnvironmentSpec
from modelwright.workspaces.service import check_location, refuse_if_in_use

# Kinds whose removal needs --prune: they live outside any declared workspace.
_TOP_LEVEL: set[Kind] = {"role", "principal", "workspace"}


def apply_platform(ctx: Context, req: ApplyRequest) -> Plan:
    """Compute the plan; unless ``dry_run``, carry it out. All or nothing."""
    ctx.require_platform_admin("apply a platform spec")
    current = current_state(ctx.session)
    desired = desired_state(req.spec)
    _check_references(req.spec, current, req.prune)
    changes = _diff(ctx, current, desired, req.spec, req.prune)
    if not req.dry_run:
        for change in changes:
            if change.action in ("create", "update"):
                _create_or_update(
                    ctx,
                    change,
                    current.get((change.kind, change.key)),
                    desired[change.kind, change.key],
                )
        for change in reversed(changes):
            if change.action == "remove":
                _remove(ctx, change, current[change.kind, change.key])
    return Plan(changes=changes, applied=not req.dry_run)


def export_platform(ctx: Context, req: Empty) -> PlatformSpec:
    ctx.require_platform_admin("export the platform spec")
    state = current_state(ctx.session)

    def of(kind: Kind) -> list[dict[str, Any]]:
        return [attrs for (k, _), attrs in sorted(state.items()) if k == kind]

    workspaces = []
    for w in of("workspace"):
        envs = sorted(
            (e for e in of("environment") if e["workspace"] == w["name"]),
            key=lambda e: e["position"],
        )
        grants: dict[tuple[str, str], list[str]] = {}
        for g in of("grant"):
            if g["workspace"] == w["name"]:
                grants.setdefault((g["principal"], g["role"]), []).append(g["environment"])
        grant_specs = []
        for (principal, role), env_names in sorted(grants.items()):
            if ALL in env_names:
                grant_specs.append(GrantSpec(principal=principal, role=role, environments="*"))
            named = [e["name"] for e in envs if e["name"] in env_names]
            if named:
                grant_specs.append(GrantSpec(principal=principal, role=role, environments=named))
        workspaces.append(
            _spec(
                WorkspaceSpec,
                w,
                environments=[
                    _spec(
                        EnvironmentSpec,
                        e,
                        datastores=[
                            _spec(DatastoreSpec, d)
                            for d in of("datastore")
                            if d["workspace"] == w["name"] and d["environment"] == e["name"]
                        ],
                    )
                    for e in envs
                ],
                grants=grant_specs,
            )
        )
    return PlatformSpec(
        roles=[RoleSpec.model_validate(r) for r in of("role")],
        principals=[PrincipalSpec.model_validate(p) for p in of("principal")],
        grants=[_spec(PlatformGrantSpec, g) for g in of("grant") if g["workspace"] == ALL],
        workspaces=workspaces,
    )


S = TypeVar("S", bound=BaseModel)


def _spec(model: type[S], attrs: dict[str, Any], **nested: Any) -> S:
    """A spec from the attributes the state holds for its fields (the state also holds where
    the thing lives, which the spec says by nesting)."""
    return model.model_validate(
        {**{k: v for k, v in attrs.items() if k in model.model_fields}, **nested}
    )


# -- planning -------------------------------------------------------------------------------
def _check_references(spec: PlatformSpec, current: State, prune: bool) -> None:
    """Grants must name principals and roles that will exist once the plan is applied."""
    principals = {p.name for p in spec.principals}
    roles = {r.name for r in spec.roles} | set(BUILTIN_ROLES)
    if not prune:
        principals |= {key for kind, key in current if kind == "principal"}
        roles |= {key for kind, key in current if kind == "role"}
    grant_lists: list[tuple[tuple[Any, ...], Sequence[PlatformGrantSpec | GrantSpec]]] = [
        (("grants",), spec.grants)
    ]
    grant_lists += [(("workspaces", i, "grants"), w.grants) for i, w in enumerate(spec.workspaces)]
    for loc, grants in grant_lists:
        for j, g in enumerate(grants):
            for field, value, known in (
                ("principal", g.principal, principals),
                ("role", g.role, roles),
            ):
                if value not in known:
                    raise InvalidInput(
                        f"{dotted((*loc, j, field))}: {field} '{value}' is neither declared in the "
                        "file nor known to the platform",
                        details={"loc": [*loc, j, field]},
                    )


def _diff(
    ctx: Context, current: State, desired: State, spec: PlatformSpec, prune: bool
) -> list[Change]:
    managed = {w.name for w in spec.workspaces}
    changes: list[Change] = []
    removed: set[tuple[Kind, str]] = set()
    for kind in KINDS:
        for key in sorted(k for kd, k in desired if kd == kind):
            new = desired[kind, key]
            old = current.get((kind, key))
            if old is None:
                changes.append(Change(action="create", kind=kind, key=key))
            elif old != new:
                diff = {f: [old.get(f), new.get(f)] for f in new if old.get(f) != new.get(f)}
                changes.append(Change(action="update", kind=kind, key=key, changes=diff))
            else:
                changes.append(Change(action="unchanged", kind=kind, key=key))
        for key in sorted(k for kd, k in current if kd == kind and (kd, k) not in desired):
            attrs = current[kind, key]
            if _protected(ctx, kind, attrs):
                continue
            in_managed = attrs.get("workspace") in managed
            if (
                ((kind in _TOP_LEVEL or attrs.get("workspace") == ALL) and prune)
                or (in_managed and kind not in _TOP_LEVEL)
                or _depends_on(kind, attrs, removed)
            ):
                changes.append(Change(action="remove", kind=kind, key=key))
                removed.add((kind, key))
    return changes


def _depends_on(kind: Kind, attrs: dict[str, Any], removed: set[tuple[Kind, str]]) -> bool:
    """Whether the row belongs to a workspace, principal or role the plan removes.

    Grants name their workspace rather than reference it, so without this a pruned workspace
    would leave its grants behind, and re-creating a workspace of that name would silently give
    the old access back.
    """
    if kind in _TOP_LEVEL:
        return False
    if ("workspace", attrs["workspace"]) in removed:
        return True
    return kind == "grant" and (
        ("principal", attrs["principal"]) in removed or ("role", attrs["role"]) in removed
    )


def _protected(ctx: Context, kind: Kind, attrs: dict[str, Any]) -> bool:
    """Never let an apply lock out the principal applying it."""
    if kind == "principal":
        return bool(attrs["name"] == ctx.caller.name)
    if kind == "grant":
        return bool(attrs["principal"] == ctx.caller.name and attrs["workspace"] == ALL)
    return False


# -- applying -------------------------------------------------------------------------------
def _create_or_update(
    ctx: Context, change: Change, old: dict[str, Any] | None, new: dict[str, Any]
) -> None:
    s = ctx.session
    kind = change.kind
    if kind == "role":
        role = get_role(s, new["name"]) if old else schema.Role(name=new["name"], builtin=False)
        role.description, role.actions = new["description"], new["actions"]
        s.add(role)
    elif kind == "principal":
        p = (
            get_principal(s, new["name"])
            if old
            else schema.Principal(name=new["name"], created_at=utcnow())
        )
        p.kind, p.display_name, p.email = new["kind"], new["display_name"], new["email"]
        s.add(p)
    elif kind == "workspace":
        ws = (
            get_workspace(ctx, new["name"])
            if old
            else schema.Workspace(name=new["name"], created_at=utcnow())
        )
        ws.description = new["description"]
        s.add(ws)
    elif kind == "environment":
        if old:
            env = get_environment(ctx, new["workspace"], new["name"])
        else:
            # Set through the many-to-one side: the new row then holds its workspace alive
            # (appending to a temporary's collection loses the parent to the GC).
            env = schema.Environment(
                name=new["name"], workspace=get_workspace(ctx, new["workspace"])
            )
            s.add(env)
        env.position, env.production, env.description, env.promotion_policy = (
            new["position"],
            new["production"],
            new["description"],
            new["promotion"],
        )
    elif kind == "datastore":
        env = get_environment(ctx, new["workspace"], new["environment"])
        found = [d for d in env.datastores if d.name == new["name"]]
        if not found or found[0].url != new["url"]:
            check_location(ctx, new["url"], (new["workspace"], new["environment"], new["name"]))
        ds = found[0] if found else schema.Datastore(name=new["name"])
        if not found:
            env.datastores.append(ds)
        ds.url, ds.classification, ds.region = new["url"], new["classification"], new["region"]
    else:  # grant: identity only, so never an update
        s.add(
            schema.Grant(
                principal=get_principal(s, new["principal"]),
                role=get_role(s, new["role"]),
                workspace=new["workspace"],
                environment=new["environment"],
            )
        )
    s.flush()
    _audit(ctx, change, old, new)


def _remove(ctx: Context, change: Change, old: dict[str, Any]) -> None:
    s = ctx.session
    kind = change.kind
    if kind == "role":
        s.delete(get_role(s, old["name"]))
    elif kind == "principal":
        s.delete(get_principal(s, old["name"]))
    elif kind == "workspace":
        s.delete(get_workspace(ctx, old["name"]))
    elif kind == "environment":
        env = get_environment(ctx, old["workspace"], old["name"])
        env.workspace.environments.remove(env)
    elif kind == "datastore":
        env = get_environment(ctx, old["workspace"], old["environment"])
        for d in env.datastores:
            if d.name == old["name"]:
                refuse_if_in_use(ctx, d, f"{old['workspace']}/{old['environment']}")
        env.datastores[:] = [d for d in env.datastores if d.name != old["name"]]
    else:
        principal = get_principal(s, old["principal"])
        role = get_role(s, old["role"])
        for g in principal_grants(s, principal.id, role.id, old["workspace"], old["environment"]):
            s.delete(g)
    s.flush()
    _audit(ctx, change, old, None)


def principal_grants(
    s: Any, principal_id: int, role_id: int, workspace: str, environment: str
) -> list[schema.Grant]:
    return list(
        s.scalars(
            select(schema.Grant).where(
                schema.Grant.principal_id == principal_id,
                schema.Grant.role_id == role_id,
                schema.Grant.workspace == workspace,
                schema.Grant.environment == environment,
            )
        )
    )


def _audit(
    ctx: Context, change: Change, old: dict[str, Any] | None, new: dict[str, Any] | None
) -> None:
    attrs = new or old or {}
    verb = {"create": "create", "update": "update", "remove": "delete"}[change.action]
    workspace = attrs.get("workspace", attrs["name"] if change.kind == "workspace" else "")
    ctx.audit(
        f"{change.kind}.{verb}",
        workspace=_scope(workspace),
        environment=_scope(
            attrs.get("environment", attrs["name"] if change.kind == "environment" else "")
        ),
        target=f"{change.kind}/{change.key}",
        before=old,
        after=new,
    )


def _scope(name: str) -> str:
    # Audit events leave "every workspace / environment" empty, as the services do.
    return "" if name == ALL else name
