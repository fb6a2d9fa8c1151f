"""Rollouts in the client: start, follow, pause, resume, abort."""

from __future__ import annotations

from typing import Any

from modelwright.api import rollouts as ops
from modelwright.client._registry import RegistryMixin
from modelwright.core.pages import PagedList
from modelwright.rollouts import models as rm

__all__ = ["RolloutsMixin"]


class RolloutsMixin(RegistryMixin):
    """The rollout methods of ``Client``."""

    def start_rollout(
        self,
        endpoint: str,
        deployment: str,
        model_uri: str,
        *,
        strategy: rm.Strategy = "canary",
        steps: list[int] | None = None,
        bake_seconds: float = 60.0,
        alarms: list[str] | None = None,
        min_requests: int = 1,
        config: dict[str, Any] | None = None,
        reason: str = "",
        workspace: str | None = None,
        environment: str | None = None,
    ) -> rm.RolloutInfo:
        """Bring ``model_uri`` onto ``endpoint`` as ``deployment`` in steps of traffic, each
        baked ``bake_seconds`` and judged by ``alarms`` (``"p99_ms > 250"``) on its own
        requests; an alarm sends all traffic back to the stable deployment at once. The
        platform's workers carry it (embedded: ``modelwright worker``)."""
        ws = self.resolve_workspace(workspace)
        env = self.resolve_environment(ws, environment)
        version = self.get_model_version(model_uri, workspace=ws, environment=env)
        fields: dict[str, Any] = {
            "workspace": ws,
            "environment": env,
            "endpoint": endpoint,
            "deployment": deployment,
            "model": version.name,
            "version": version.version,
            "strategy": strategy,
            "steps": steps,
            "bake_seconds": bake_seconds,
            "alarms": alarms,
            "min_requests": min_requests,
            "config": config,
            "reason": reason,
        }
        return self.call(ops.START_ROLLOUT, **fields)

    def list_rollouts(
        self,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        endpoint: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> PagedList[rm.RolloutInfo]:
        """Newest first: one page of at most ``limit``; pass its ``next_page_token`` as
        ``page_token`` for the next."""
        return self.call_pages(
            ops.LIST_ROLLOUTS,
            page_token=page_token,
            limit=limit,
            workspace=workspace,
            environment=environment,
            endpoint=endpoint,
        )

    def get_rollout(self, rollout_id: int) -> rm.RolloutInfo:
        return self.call(ops.GET_ROLLOUT, rollout_id=rollout_id)

    def pause_rollout(self, rollout_id: int) -> rm.RolloutInfo:
        return self.call(ops.PAUSE_ROLLOUT, rollout_id=rollout_id)

    def resume_rollout(self, rollout_id: int) -> rm.RolloutInfo:
        return self.call(ops.RESUME_ROLLOUT, rollout_id=rollout_id)

    def abort_rollout(self, rollout_id: int) -> rm.RolloutInfo:
        return self.call(ops.ABORT_ROLLOUT, rollout_id=rollout_id)
