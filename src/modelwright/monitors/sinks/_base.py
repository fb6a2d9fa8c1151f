"""The ``AlertSink`` protocol and what passes through it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["AlertSink", "Delivery", "SinkConfig"]


@dataclass(frozen=True)
class SinkConfig:
    """One sink of a rule as stored: its kind, its target (a URL, a command, or nothing),
    its format, and the rule's signing secret (webhooks)."""

    kind: str
    target: str = ""
    format: str = "json"
    secret: str | None = None

    @property
    def label(self) -> str:
        return self.kind if not self.target else f"{self.kind}:{self.target}"


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    detail: str


@runtime_checkable
class AlertSink(Protocol):
    """Delivers an alert's transitions somewhere.

    ``check`` is called when a rule is added: it returns the target as stored, or raises
    ``ValueError`` saying what is wrong (the request is refused, nothing is written).
    ``deliver`` is called by the monitor's workflow outside any database transaction, once
    per transition; it never raises: a failure is a ``Delivery`` with ``ok=False``.
    """

    name: str

    def check(self, target: str) -> str: ...

    def deliver(self, alert: dict[str, Any], config: SinkConfig) -> Delivery: ...
