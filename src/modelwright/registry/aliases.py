"""Aliases: resolving, moving (with history, event and audit record) and deleting them."""

from __future__ import annotations

from operator import eq, le

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.filters import where_given
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import get_environment
from modelwright.core.models import from_row
from modelwright.core.pages import Page
from modelwright.errors import NotFound
from modelwright.registry import models as m
from modelwright.registry._lookup import (
    available_version,
    env_names,
    find_model,
    readable_model,
    version_infos,
)
from modelwright.store import schema

__all__ = [
    "alias_history",
    "delete_alias",
    "move_alias",
    "resolve_alias",
    "set_alias",
]


def _alias_row(
    ctx: Context, model: schema.RegisteredModel, env: schema.Environment, alias: str
) -> schema.ModelAlias | None:
    return ctx.session.scalar(
        select(schema.ModelAlias).where(
            schema.ModelAlias.model_id == model.id,
            schema.ModelAlias.environment_id == env.id,
            schema.ModelAlias.alias == alias,
        )
    )


def _named_alias(
    ctx: Context, action: Action, req: m.AliasRef | m.DeleteAlias
) -> tuple[schema.Environment, schema.RegisteredModel, schema.ModelAlias | None]:
    """The environment and model the request names (``action`` needed there), and the alias
    row, if the model has that alias there."""
    ctx.require(action, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    model = find_model(ctx, env.workspace, req.name)
    return env, model, _alias_row(ctx, model, env, req.alias)


def resolve_alias(ctx: Context, req: m.AliasRef) -> m.ModelVersionInfo:
    env, model, row = _named_alias(ctx, Action.DATA_READ, req)
    if row is None:
        known = sorted(
            ctx.session.scalars(
                select(schema.ModelAlias.alias).where(
                    schema.ModelAlias.model_id == model.id,
                    schema.ModelAlias.environment_id == env.id,
                )
            )
        )
        raise NotFound(
            f"model '{model.name}' has no alias '{req.alias}' in environment '{env.name}' "
            f"(it has: {', '.join(known) or 'none'})",
            details={"model": model.name, "alias": req.alias, "environment": env.name},
        )
    version = ctx.session.get(schema.ModelVersion, row.version_id)
    if version is None:  # the foreign key cascades; a dangling alias is a corrupted store
        raise NotFound(f"alias '{req.alias}' of model '{model.name}' points at a missing version")
    return version_infos(ctx, model, [version])[0]


# -- aliases ----------------------------------------------------------------------------------
def set_alias(ctx: Context, req: m.SetAlias) -> m.ModelVersionInfo:
    ctx.require(Action.MODEL_REGISTER, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    version = available_version(ctx, env, req.name, req.version)
    move_alias(ctx, version.model, env, req.alias, version, reason=req.reason)
    return version_infos(ctx, version.model, [version])[0]


def move_alias(
    ctx: Context,
    model: schema.RegisteredModel,
    env: schema.Environment,
    alias: str,
    version: schema.ModelVersion,
    *,
    reason: str,
) -> None:
    """Point ``alias`` in ``env`` at ``version`` (available there), with its history, event
    and audit record; nothing when it points there already. Callers check permissions."""
    row = _alias_row(ctx, model, env, alias)
    before = None
    now = utcnow()
    if row is None:
        row = schema.ModelAlias(
            model_id=model.id,
            environment_id=env.id,
            alias=alias,
            version_id=version.id,
            updated_at=now,
            updated_by=ctx.caller.name,
        )
        ctx.session.add(row)
    else:
        old = ctx.session.get(schema.ModelVersion, row.version_id)
        before = old.version if old is not None else None
        if before == version.version:
            return
        row.version_id, row.updated_at, row.updated_by = version.id, now, ctx.caller.name
    _alias_event(
        ctx, model=model, env=env, alias=alias, before=before, after=version.version, reason=reason
    )


def _alias_event(
    ctx: Context,
    *,
    model: schema.RegisteredModel,
    env: schema.Environment,
    alias: str,
    before: int | None,
    after: int | None,
    reason: str,
) -> schema.ModelAliasEvent:
    event = schema.ModelAliasEvent(
        model_id=model.id,
        environment_id=env.id,
        alias=alias,
        from_version=before,
        to_version=after,
        at=utcnow(),
        by=ctx.caller.name,
        reason=reason,
    )
    ctx.session.add(event)
    ctx.session.flush()
    ctx.event(
        "alias.moved",
        workspace=model.workspace.name,
        environment=env.name,
        subject=f"model/{model.workspace.name}/{model.name}@{alias}",
        data={"model": model.name, "alias": alias, "before": before, "after": after},
    )
    ctx.audit(
        "model.alias.set" if after is not None else "model.alias.delete",
        workspace=model.workspace.name,
        environment=env.name,
        target=f"model/{model.workspace.name}/{model.name}@{alias}",
        before={"version": before},
        after={"version": after, "reason": reason},
    )
    return event


def _event_info(
    model: schema.RegisteredModel, env: str, e: schema.ModelAliasEvent
) -> m.AliasEventInfo:
    return from_row(m.AliasEventInfo, e, model=model.name, environment=env)


def delete_alias(ctx: Context, req: m.DeleteAlias) -> m.AliasEventInfo:
    env, model, row = _named_alias(ctx, Action.MODEL_REGISTER, req)
    if row is None:
        raise NotFound(
            f"model '{model.name}' has no alias '{req.alias}' in environment '{env.name}'",
            details={"model": model.name, "alias": req.alias, "environment": env.name},
        )
    old = ctx.session.get(schema.ModelVersion, row.version_id)
    ctx.session.delete(row)
    event = _alias_event(
        ctx,
        model=model,
        env=env,
        alias=req.alias,
        before=old.version if old else None,
        after=None,
        reason=req.reason,
    )
    return _event_info(model, env.name, event)


def alias_history(ctx: Context, req: m.AliasHistoryRequest) -> Page[m.AliasEventInfo]:
    """Oldest first. With ``at``, the aliases then in force: one page, at most one event
    per alias and environment."""
    model, readable = readable_model(ctx, req.workspace, req.name)
    envs = env_names(model.workspace)
    q = select(schema.ModelAliasEvent).where(
        schema.ModelAliasEvent.model_id == model.id,
        schema.ModelAliasEvent.environment_id.in_(readable),
    )
    if req.environment is not None:
        q = q.where(
            schema.ModelAliasEvent.environment_id
            == get_environment(ctx, req.workspace, req.environment).id
        )
    q = where_given(
        q,
        (schema.ModelAliasEvent.alias, eq, req.alias),
        (schema.ModelAliasEvent.at, le, req.at),
    )
    keys = [Key(schema.ModelAliasEvent.at), Key(schema.ModelAliasEvent.id)]
    token = None
    if req.at is not None:
        # What was in force at that time: the last move of each alias up to then, unless it
        # removed the alias.
        ordered = q.order_by(*(k.order() for k in keys))
        last = {(e.environment_id, e.alias): e for e in ctx.session.scalars(ordered)}
        events = [e for e in last.values() if e.to_version is not None]
    else:
        events, token = keyset_page(ctx.session, q, keys, req, scope="alias_history")
    items = [_event_info(model, envs.get(e.environment_id, "?"), e) for e in events]
    return Page(items=items, next_page_token=token)
