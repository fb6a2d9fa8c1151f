"""Alert sinks: the ``AlertSink`` protocol, the built-ins (``webhook``, ``command``, ``log``)
and the registry of them by name.

Third-party sinks are found through the entry point group ``modelwright.alert_sinks``: each
entry point names an ``AlertSink`` instance, or a class or factory called with no argument
that returns one. They are loaded the first time a name is not found among the registered
sinks, or when every name is listed.
"""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points

from modelwright.monitors.sinks._base import AlertSink, Delivery, SinkConfig
from modelwright.monitors.sinks._command import CommandSink
from modelwright.monitors.sinks._log import LogSink
from modelwright.monitors.sinks._webhook import SIGNATURE_HEADER, WebhookSink, sign

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
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

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_sinks: dict[str, AlertSink] = {}
_entry_points_loaded = False

BUILTINS: tuple[AlertSink, ...] = (WebhookSink(), CommandSink(), LogSink())


def register_sink(sink: AlertSink, *, replace: bool = False) -> AlertSink:
    """Make ``sink`` usable by name in alert rules; a taken name is an error unless
    ``replace`` (tests replace ``webhook`` with one that waits less between attempts)."""
    if isinstance(sink, type) or not isinstance(sink, AlertSink):
        raise TypeError(f"{sink!r} does not implement the AlertSink protocol")
    with _lock:
        if not replace and sink.name in _sinks and _sinks[sink.name] is not sink:
            raise ValueError(f"an alert sink named {sink.name!r} is already registered")
        _sinks[sink.name] = sink
    return sink


def _load_entry_points() -> None:
    global _entry_points_loaded  # noqa: PLW0603 - loaded once per process, under the lock
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        found = list(entry_points(group=ENTRY_POINT_GROUP))
    for point in found:
        try:
            loaded = point.load()
            is_instance = isinstance(loaded, AlertSink) and not isinstance(loaded, type)
            register_sink(loaded if is_instance else loaded(), replace=False)
        except Exception:
            # One broken plug-in must not take the built-ins down with it.
            _log.exception("alert sink entry point %r could not be registered", point.name)


def get_sink(name: str) -> AlertSink | None:
    """The sink registered under ``name`` (built-in, registered, or from an entry point)."""
    sink = _sinks.get(name)
    if sink is None:
        _load_entry_points()
        sink = _sinks.get(name)
    return sink


def sink_names() -> list[str]:
    _load_entry_points()
    return sorted(_sinks)


for _builtin in BUILTINS:
    register_sink(_builtin)
