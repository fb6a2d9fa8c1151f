"""Alert sinks: the ``AlertSink`` protocol, the built-ins (``webhook``, ``command``, ``log``)
and the registry of them by name.

Third-party sinks are found through the entry point group ``modelwright.alert_sinks``: each
entry point names an ``AlertSink`` instance, or a class or factory called with no argument
that returns one. They are loaded the first time a name is not found among the registered
sinks, or when every name is listed.
"""

from __future__ import annotations

from modelwright.monitors.sinks._base import AlertSink, Delivery, SinkConfig
from modelwright.monitors.sinks._command import CommandSink
from modelwright.monitors.sinks._log import LogSink
from modelwright.monitors.sinks._webhook import SIGNATURE_HEADER, WebhookSink, sign
from modelwright.plugins import PluginRegistry

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "SIGNATURE_HEADER",
    "AlertSink",
    "CommandSink",
    "Delivery",
    "LogSink",
    "SinkConfig",
    "WebhookSink",
    "get_sink",
    "register_sink",
    "sign",
    "sink_names",
]

ENTRY_POINT_GROUP = "modelwright.alert_sinks"

REGISTRY: PluginRegistry[AlertSink] = PluginRegistry(
    AlertSink, ENTRY_POINT_GROUP, kind="alert sink", article="an"
)

BUILTINS: tuple[AlertSink, ...] = (WebhookSink(), CommandSink(), LogSink())


def register_sink(sink: AlertSink, *, replace: bool = False) -> AlertSink:
    """Make ``sink`` usable by name in alert rules; a taken name is an error unless
    ``replace`` (tests replace ``webhook`` with one that waits less between attempts)."""
    return REGISTRY.register(sink, replace=replace)


def get_sink(name: str) -> AlertSink | None:
    """The sink registered under ``name`` (built-in, registered, or from an entry point)."""
    return REGISTRY.get(name)


def sink_names() -> list[str]:
    return REGISTRY.names()


for _builtin in BUILTINS:
    register_sink(_builtin)
