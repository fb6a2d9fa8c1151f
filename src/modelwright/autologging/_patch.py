"""Wrapping estimator methods: only the outermost ``fit`` logs, and a failure of the logging
is a warning, never the user's error."""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["Hooks", "is_patched", "patch", "unpatch"]

log = logging.getLogger("modelwright.autologging")

# before(estimator, args, kwargs) -> state; after(state, estimator, args, kwargs, error)
Before = Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]
After = Callable[[Any, Any, tuple[Any, ...], dict[str, Any], BaseException | None], None]


class Hooks:
    def __init__(self, before: Before, after: After, silent: Callable[[], bool]) -> None:
        self.before = before
        self.after = after
        self.silent = silent


class _Depth:
    """Fits in progress, across threads: estimators fit their parts on joblib's threads
    (a random forest's trees), and those fits are inside the outer one too. A fit that starts
    in another thread while one is logged is therefore not logged either."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def enter(self) -> bool:
        """Count this fit in; True when it is the outermost."""
        with self._lock:
            self.value += 1
            return self.value == 1

    def leave(self) -> None:
        with self._lock:
            self.value -= 1


_depth = _Depth()
# (class, method name) -> (the function found on the class, whether the class defined it).
_originals: dict[tuple[type, str], tuple[Any, bool]] = {}


def _warn(hooks: Hooks, what: str, exc: BaseException) -> None:
    if not hooks.silent():
        message = f"modelwright autologging failed to {what}: {type(exc).__name__}: {exc}"
        log.warning(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def _wrap(original: Callable[..., Any], hooks: Hooks) -> Callable[..., Any]:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _depth.enter():
            # Inside another fit (a Pipeline's steps, a search's candidates): not logged.
            try:
                return original(self, *args, **kwargs)
            finally:
                _depth.leave()
        try:
            try:
                state = hooks.before(self, args, kwargs)
            except Exception as exc:
                _warn(hooks, "start", exc)
                return original(self, *args, **kwargs)
            try:
                result = original(self, *args, **kwargs)
            except BaseException as exc:
                try:
                    hooks.after(state, self, args, kwargs, exc)
                except Exception as inner:
                    _warn(hooks, "record the failed fit", inner)
                raise
            try:
                hooks.after(state, self, args, kwargs, None)
            except Exception as exc:
                _warn(hooks, "log the fit", exc)
            return result
        finally:
            _depth.leave()

    patched.__modelwright_autolog__ = True  # type: ignore[attr-defined]
    return patched


def is_patched(cls: type, method: str) -> bool:
    return (cls, method) in _originals


def patch(cls: type, method: str, hooks: Hooks) -> None:
    """Wrap ``cls.method``. An inherited method (``GridSearchCV.fit`` is ``BaseSearchCV``'s)
    is wrapped on ``cls`` itself, so that restoring it touches no other class."""
    if (cls, method) in _originals:
        return
    own = method in cls.__dict__
    found = cls.__dict__[method] if own else getattr(cls, method)
    # A base class of cls may be wrapped already: wrap what it defines, not the wrapper.
    while getattr(found, "__modelwright_autolog__", False):
        found = found.__wrapped__
    _originals[(cls, method)] = (found, own)
    setattr(cls, method, _wrap(found, hooks))


def unpatch() -> None:
    """Put every wrapped method back."""
    for (cls, method), (original, own) in list(_originals.items()):
        if own:
            setattr(cls, method, original)
        else:
            delattr(cls, method)
        del _originals[(cls, method)]
