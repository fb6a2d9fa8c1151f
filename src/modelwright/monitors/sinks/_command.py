"""The ``command`` sink: a shell command with the alert as JSON on its standard input."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from modelwright.monitors.sinks._base import Delivery, SinkConfig

__all__ = ["CommandSink"]


class CommandSink:
    name = "command"

    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout

    def check(self, target: str) -> str:
        if not target.strip():
            raise ValueError("the command sink needs a command: command:'notify-team --page'")
        if "\x00" in target:
            raise ValueError("the command contains a NUL character")
        return target

    def deliver(self, alert: dict[str, Any], config: SinkConfig) -> Delivery:
        body = json.dumps(alert).encode()
        try:
            # A shell, as the rule's author wrote it (pipes, quoting): only people who may
            # manage access may add a command sink.
            done = subprocess.run(  # noqa: S602
                config.target,
                shell=True,
                input=body,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Delivery(ok=False, attempts=1, detail=f"timed out after {self.timeout:g} s")
        except OSError as exc:
            return Delivery(ok=False, attempts=1, detail=f"could not run: {exc}")
        if done.returncode == 0:
            return Delivery(ok=True, attempts=1, detail="exit status 0")
        err = done.stderr.decode(errors="replace").strip()[-500:]
        return Delivery(
            ok=False,
            attempts=1,
            detail=f"exit status {done.returncode}" + (f": {err}" if err else ""),
        )
