"""Monitors in the client: create, list, show, run, history, delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, TypedDict

from modelwright.api import monitors as ops
from modelwright.client._jobs import JobsMixin
from modelwright.core.pages import PagedList
from modelwright.monitors import models as mm

__all__ = ["MonitorsMixin"]


# Typed key by key, so that ``**scope`` passes next to ``call_pages``'s own keywords.
class _Scope(TypedDict):
    workspace: str
    environment: str


class MonitorsMixin(JobsMixin):
    """The monitor methods of ``Client``."""

    def _monitor_scope(self, workspace: str | None, environment: str | None) -> _Scope:
        ws = self.resolve_workspace(workspace)
        return {"workspace": ws, "environment": self.resolve_environment(ws, environment)}

    def create_monitor(
        self,
        name: str,
        *,
        endpoint: str | None = None,
        dataset: str | None = None,
        baseline: str,
        window_seconds: int = 3600,
        schedule: str | None = None,
        signals: Sequence[mm.Signal] | None = None,
        thresholds: dict[str, float] | None = None,
        description: str = "",
        task: mm.Task | None = None,
        baseline_predictions: Literal["model", "label"] = "model",
        label_column: str | None = None,
        features: Sequence[str] | None = None,
        prediction_column: str = "prediction",
        workspace: str | None = None,
        environment: str | None = None,
    ) -> mm.MonitorDetail:
        """Watch ``endpoint``'s captured requests against ``baseline`` (``customers@v2``)
        over the last ``window_seconds``, every time ``schedule`` (a cron expression, UTC)
        fires, and whenever ``run_monitor`` asks. ``task``, ``baseline_predictions`` and
        ``label_column`` tell the performance and prediction signals how to read the data.

        Or watch a dataset series: the versions of ``dataset`` registered in each window
        (batch outputs), compared on ``features`` (default: the baseline's columns but the
        prediction and label ones) and on ``prediction_column``."""
        return self.call(
            ops.CREATE_MONITOR,
            **self._monitor_scope(workspace, environment),
            name=name,
            endpoint=endpoint,
            dataset=dataset,
            baseline=baseline,
            window_seconds=window_seconds,
            schedule=schedule,
            signals=None if signals is None else list(signals),
            thresholds=thresholds,
            description=description,
            task=task,
            baseline_predictions=baseline_predictions,
            label_column=label_column,
            features=None if features is None else list(features),
            prediction_column=prediction_column,
        )

    def list_monitors(
        self,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        endpoint: str | None = None,
        dataset: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> PagedList[mm.MonitorInfo]:
        """One page of the monitors you may see (``limit`` of them, oldest first)."""
        return self.call_pages(
            ops.LIST_MONITORS,
            page_token=page_token,
            limit=limit,
            follow=False,
            workspace=workspace,
            environment=environment,
            endpoint=endpoint,
            dataset=dataset,
        )

    def get_monitor(
        self, name: str, *, workspace: str | None = None, environment: str | None = None
    ) -> mm.MonitorDetail:
        """The monitor with its latest evaluation's values."""
        return self.call(ops.GET_MONITOR, **self._monitor_scope(workspace, environment), name=name)

    def delete_monitor(
        self, name: str, *, workspace: str | None = None, environment: str | None = None
    ) -> mm.MonitorInfo:
        return self.call(
            ops.DELETE_MONITOR, **self._monitor_scope(workspace, environment), name=name
        )

    def run_monitor(
        self,
        name: str,
        *,
        wait: bool = True,
        timeout: float | None = None,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> mm.MonitorRun:
        """Evaluate the monitor now, as a job; with ``wait``, until the job ends (embedded:
        it runs in this process)."""
        run = self.call(ops.RUN_MONITOR, **self._monitor_scope(workspace, environment), name=name)
        if wait:
            self.wait_job(run.job_id, timeout=timeout)
        return run

    def monitor_history(
        self,
        name: str,
        *,
        signal: mm.Signal | None = None,
        metric: str | None = None,
        feature: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
        workspace: str | None = None,
        environment: str | None = None,
        page_token: str | None = None,
    ) -> PagedList[mm.MonitorResult]:
        """Values of the monitor's evaluations, oldest first: the latest ``limit``; pass the
        ``next_page_token`` as ``page_token`` for the ``limit`` before them."""
        return self.call_pages(
            ops.MONITOR_HISTORY,
            page_token=page_token,
            **self._monitor_scope(workspace, environment),
            name=name,
            signal=signal,
            metric=metric,
            feature=feature,
            since=since,
            until=until,
            limit=limit,
        )
