"""The ``log`` sink: one line through the ``logging`` module."""

from __future__ import annotations

import logging
from typing import Any

from modelwright.monitors.sinks._base import Delivery, SinkConfig

__all__ = ["LogSink"]

_log = logging.getLogger("modelwright.alerts")


class LogSink:
    name = "log"

    def check(self, target: str) -> str:
        if target:
            raise ValueError("the log sink takes no target (write 'log')")
        return ""

    def deliver(self, alert: dict[str, Any], config: SinkConfig) -> Delivery:
        level = logging.WARNING if alert.get("state") == "firing" else logging.INFO
        _log.log(level, "%s", alert.get("summary", ""))
        return Delivery(ok=True, attempts=1, detail="logged")
