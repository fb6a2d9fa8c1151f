"""The retraining action of monitors in the client: set, show, clear, run now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from modelwright.api import monitors
from modelwright.api import retrain as ops
from modelwright.client._monitors import MonitorsMixin
from modelwright.errors import InvalidInput
from modelwright.monitors import retrain_models as rm
from modelwright.monitors.report_models import MonitorReport
from modelwright.objects.models import ObjectScope

if TYPE_CHECKING:
    pass

__all__ = ["RetrainMixin"]


class RetrainMixin(MonitorsMixin):
    """The retraining methods of ``Client``."""

    def set_retraining(
        self,
        monitor: str,
        *,
        project: str | Path,
        pipeline: str,
        model: str,
        params: Sequence[str] = (),
        output: str = "model",
        example: str | None = None,
        train_in: str | None = None,
        promote_to: str | None = None,
        alias: str | None = None,
        cooldown_seconds: int = 6 * 3600,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> rm.RetrainingAction:
        """When an alert rule of ``monitor`` fires (at most once per cooldown): run
        ``pipeline`` of a snapshot of ``project`` taken now, register its ``output`` as a new
        version of ``model`` and request its promotion to ``promote_to`` (default: the next
        environment of the path), as you, through the target's gates and approvals."""
        from modelwright.pipelines.project import load_pipelines
        from modelwright.pipelines.snapshot import pack_project

        # Checked here before anything is uploaded: the server cannot run the project's code.
        known = load_pipelines(Path(project))
        if pipeline not in known:
            raise InvalidInput(
                f"pipeline: the project has no pipeline '{pipeline}' "
                f"(it has: {', '.join(known) or 'none'})",
                details={"field": "pipeline", "pipelines": list(known)},
            )
        digest = self.transport.put_object(ObjectScope.artifacts(), pack_project(Path(project)))
        return self.call(
            ops.SET_RETRAINING,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            project=digest,
            pipeline=pipeline,
            params=list(params),
            model=model,
            output=output,
            example=example,
            train_in=train_in,
            promote_to=promote_to,
            alias=alias,
            cooldown_seconds=cooldown_seconds,
        )

    def get_retraining(
        self, monitor: str, *, workspace: str | None = None, environment: str | None = None
    ) -> rm.RetrainingDetail:
        """The action (None: not set) and the latest retrainings, newest first."""
        return self.call(
            ops.GET_RETRAINING, **self._monitor_scope(workspace, environment), name=monitor
        )

    def clear_retraining(
        self, monitor: str, *, workspace: str | None = None, environment: str | None = None
    ) -> rm.RetrainingAction:
        return self.call(
            ops.CLEAR_RETRAINING, **self._monitor_scope(workspace, environment), name=monitor
        )

    def monitor_report(
        self,
        monitor: str,
        *,
        window_seconds: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> tuple[str, MonitorReport]:
        """The monitor's report as a self-contained HTML page, and its data: histograms of
        the baseline against the captured window (default: the monitor's window ending now),
        drift over time, the latest quality values and the alerts."""
        from modelwright.monitors.report import render_html

        report = self.call(
            monitors.MONITOR_REPORT,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            window_seconds=window_seconds,
            since=since,
            until=until,
        )
        return render_html(report), report

    def run_retraining(
        self,
        monitor: str,
        *,
        force: bool = False,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> rm.RetrainingInfo:
        """Start the retraining now; within the cooldown it is skipped (``status`` and
        ``reason`` say so) unless ``force``."""
        return self.call(
            ops.RUN_RETRAINING,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            force=force,
        )
