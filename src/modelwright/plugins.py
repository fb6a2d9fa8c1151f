"""A registry of named plug-ins of one protocol (drift methods, alert sinks, flavors,
executors, artifact stores): the built-ins, those registered in process, and those packages
offer through an entry point group (an instance, or a class or factory called with no
argument). Entry points are loaded the first time a name is not found, or when every name is
listed; one broken plug-in is logged, never fatal to the others."""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

__all__ = ["PluginRegistry"]

T = TypeVar("T")

_log = logging.getLogger(__name__)


class PluginRegistry(Generic[T]):
    def __init__(self, protocol: type[Any], group: str, *, kind: str, article: str = "a") -> None:
        self.protocol = protocol  # a runtime-checkable Protocol (mypy calls those abstract)
        self.group = group
        self.kind = kind  # "drift method", "alert sink": for messages
        self.article = article
        self.items: dict[str, T] = {}
        self.loaded = False
        self._lock = threading.Lock()

    def register(self, plugin: T, *, replace: bool = False) -> T:
        """Make ``plugin`` usable by its name; a taken name is an error unless ``replace``."""
        if isinstance(plugin, type) or not isinstance(plugin, self.protocol):
            raise TypeError(f"{plugin!r} does not implement the {self.protocol.__name__} protocol")
        name: str = getattr(plugin, "name")  # noqa: B009 - every plug-in protocol has one
        with self._lock:
            if not replace and name in self.items and self.items[name] is not plugin:
                raise ValueError(f"{self.article} {self.kind} named {name!r} is already registered")
            self.items[name] = plugin
        return plugin

    def get(self, name: str) -> T | None:
        found = self.items.get(name)
        if found is None:
            self.load_entry_points()
            found = self.items.get(name)
        return found

    def names(self) -> list[str]:
        self.load_entry_points()
        return sorted(self.items)

    def load_entry_points(self) -> None:
        with self._lock:
            if self.loaded:
                return
            self.loaded = True
            found = list(entry_points(group=self.group))
        for point in found:
            try:
                loaded: Any = point.load()
                # A class also "has" the protocol's attributes: instantiate classes and factories.
                is_instance = isinstance(loaded, self.protocol) and not isinstance(loaded, type)
                self.register(loaded if is_instance else loaded(), replace=False)
            except Exception:
                # One broken plug-in must not take the built-ins down with it.
                _log.exception("%s entry point %r could not be registered", self.kind, point.name)
