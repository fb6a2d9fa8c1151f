"""The retraining action of monitors: set, show, clear, and start it now.

Setting the action needs ``endpoint.deploy`` where the monitor is (it changes the monitor),
``pipeline.run`` where the pipeline runs and ``promotion.request`` in the target: the
retraining runs and requests its promotion as the principal who set it, so it can do no
more than that principal could by hand. The action belongs to the monitor, not to one of
its alert rules: any rule firing starts it, and the cooldown is the monitor's, so rules that
fire together (drift of several features) start one retraining, not one each.
"""

from __future__ import annotations

import ast
import io
import tarfile
from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lookup import get_environment
from modelwright.core.models import from_row
from modelwright.errors import InvalidInput, NotFound
from modelwright.monitors import retrain_models as rm
from modelwright.monitors._rows import change_action, visible_monitor
from modelwright.monitors.models import MonitorRef
from modelwright.monitors.retrain_flow import start_retraining
from modelwright.objects.service import require_nameable
from modelwright.store import schema

__all__ = [
    "clear_retraining",
    "get_retraining",
    "run_retraining",
    "set_retraining",
    "snapshot_pipelines",
]

RA = schema.RetrainAction
RT = schema.Retraining
_HISTORY = 50


def set_retraining(ctx: Context, req: rm.SetRetraining) -> rm.RetrainingAction:
    monitor = visible_monitor(ctx, req)
    ctx.require(change_action(monitor), req.workspace, req.environment)
    train = _environment(ctx, req.workspace, req.train_in or req.environment, "train_in")
    target = _target(ctx, req, train)
    ctx.require(Action.PIPELINE_RUN, req.workspace, train.name)
    ctx.require(Action.PROMOTION_REQUEST, req.workspace, target.name)
    # The snapshot is read by the worker as the caller: it must be the caller's to name.
    require_nameable(ctx, [req.project], train)
    known = snapshot_pipelines(ctx.artifacts.get_bytes(req.project))
    if known is not None and req.pipeline not in known:
        raise InvalidInput(
            f"pipeline: the project has no pipeline '{req.pipeline}' "
            f"(it has: {', '.join(known) or 'none'})",
            details={"field": "pipeline", "pipelines": known},
        )
    action = ctx.session.scalar(select(RA).where(RA.monitor_id == monitor.id))
    before = None if action is None else _action(action).model_dump(mode="json")
    if action is None:
        action = RA(monitor_id=monitor.id, last_started_at=None)
        ctx.session.add(action)
    action.project = req.project
    action.pipeline = req.pipeline
    action.params = list(req.params)
    action.output = req.output
    action.example = req.example
    action.model = req.model
    action.train_env_id = train.id
    action.target_env_id = target.id
    action.alias = req.alias
    action.cooldown_seconds = req.cooldown_seconds
    action.created_by = ctx.caller.name
    action.created_at = utcnow()
    ctx.session.flush()
    ctx.session.refresh(action)
    info = _action(action)
    _audit(ctx, monitor, "retraining.set", before, info.model_dump(mode="json"))
    return info


def get_retraining(ctx: Context, req: MonitorRef) -> rm.RetrainingDetail:
    """The action (None: not set) and the latest retrainings, started or skipped."""
    monitor = visible_monitor(ctx, req)
    action = ctx.session.scalar(select(RA).where(RA.monitor_id == monitor.id))
    rows = ctx.session.scalars(
        select(RT).where(RT.monitor_id == monitor.id).order_by(RT.id.desc()).limit(_HISTORY)
    )
    return rm.RetrainingDetail(
        action=None if action is None else _action(action),
        history=[_info(monitor, r) for r in rows],
    )


def clear_retraining(ctx: Context, req: MonitorRef) -> rm.RetrainingAction:
    """The action goes; retrainings under way finish, the history stays."""
    monitor = visible_monitor(ctx, req)
    ctx.require(change_action(monitor), req.workspace, req.environment)
    action = _required(ctx, monitor)
    info = _action(action)
    _audit(ctx, monitor, "retraining.clear", info.model_dump(mode="json"), None)
    ctx.session.delete(action)
    return info


def run_retraining(ctx: Context, req: rm.RetrainRun) -> rm.RetrainingInfo:
    """Start the retraining now, unless one started within the cooldown (``force``: even
    then); a skip is answered, and kept in the history, with its reason."""
    monitor = visible_monitor(ctx, req)
    ctx.require(change_action(monitor), req.workspace, req.environment)
    action = _required(ctx, monitor)
    row = start_retraining(ctx, action, "manual", force=req.force, by=ctx.caller.name)
    return _info(monitor, row)


def snapshot_pipelines(archive: bytes) -> list[str] | None:
    """The names of a project snapshot's pipelines, read without running its code: the
    string keys of ``PIPELINES = {...}`` in ``pipelines.py``. None when they cannot be read
    that way (``register_pipelines()``, a package): the run then says."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            member = tar.extractfile("pipelines.py")
            source = member.read() if member is not None else None
    except (tarfile.TarError, KeyError, OSError):
        return None
    if source is None:
        return None
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "PIPELINES" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            names = [
                k.value
                for k in node.value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
            return names if len(names) == len(node.value.keys) else None
    return None


# -- helpers ----------------------------------------------------------------------------------
def _environment(ctx: Context, workspace: str, name: str, field: str) -> schema.Environment:
    try:
        return get_environment(ctx, workspace, name)
    except NotFound as exc:
        raise InvalidInput(f"{field}: {exc.message}", details={"field": field}) from None


def _target(ctx: Context, req: rm.SetRetraining, train: schema.Environment) -> schema.Environment:
    path = sorted(train.workspace.environments, key=lambda e: e.position)
    names = " → ".join(e.name for e in path)
    if req.promote_to is None:
        later = [e for e in path if e.position > train.position]
        if not later:
            raise InvalidInput(
                f"promote_to: '{train.name}' is the last environment of the path ({names}): "
                "name the environment the new version is to enter",
                details={"field": "promote_to"},
            )
        return later[0]
    target = _environment(ctx, req.workspace, req.promote_to, "promote_to")
    if target.position <= train.position:
        raise InvalidInput(
            f"promote_to: '{target.name}' does not come after '{train.name}' on the path ({names})",
            details={"field": "promote_to"},
        )
    return target


def _required(ctx: Context, monitor: schema.Monitor) -> schema.RetrainAction:
    action = ctx.session.scalar(select(RA).where(RA.monitor_id == monitor.id))
    if action is None:
        raise NotFound(
            f"monitor '{monitor.name}' has no retraining action",
            details={"monitor": monitor.name},
        )
    return action


def _action(a: schema.RetrainAction) -> rm.RetrainingAction:
    return from_row(
        rm.RetrainingAction,
        a,
        monitor=a.monitor.name,
        train_in=a.train_env.name,
        promote_to=a.target_env.name,
    )


def _info(monitor: schema.Monitor, r: schema.Retraining) -> rm.RetrainingInfo:
    return from_row(
        rm.RetrainingInfo,
        r,
        monitor=monitor.name,
        trigger="alert" if r.trigger == "alert" else "manual",
    )


def _audit(
    ctx: Context,
    monitor: schema.Monitor,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    env = monitor.environment
    ctx.audit(
        action,
        workspace=env.workspace.name,
        environment=env.name,
        target=f"monitor:{monitor.name}/retraining",
        before=before,
        after=after,
    )
