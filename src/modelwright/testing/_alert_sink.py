"""The conformance kit for alert sinks: every built-in passes it in CI.

``check_alert_sink(sink, target)`` checks that the sink implements the protocol under a
valid name, that ``check`` accepts ``target`` and refuses junk only with ``ValueError``, that
``deliver`` answers a ``Delivery`` for a firing and a resolved alert without changing them
and without raising, and, given ``received`` (what the receiving end saw, as parsed JSON
documents), that each alert arrived once. Given ``broken_target`` (a target that cannot
work), a delivery to it is a failed ``Delivery``, never an exception.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from modelwright.core.names import check_name
from modelwright.monitors.sinks import AlertSink, Delivery, SinkConfig

__all__ = ["ALERT_SINK_CHECKS", "check_alert_sink", "sample_alert"]

ALERT_SINK_CHECKS = (
    "protocol",
    "check accepts the target",
    "check refuses junk with ValueError only",
    "deliver firing and resolved",
    "alerts unchanged",
    "received once each",
    "a broken target fails without raising",
)
_JUNK = ("\x00", "ftp://example.com/x", "   ", "x" * 5000)


def _expect(condition: bool, message: str) -> None:
    # Not `assert`: the kit must also check when Python runs with -O.
    if not condition:
        raise AssertionError(message)


def sample_alert(state: str = "firing") -> dict[str, Any]:
    """An alert as the monitor workflow hands it to sinks."""
    return {
        "workspace": "ml",
        "environment": "prod",
        "monitor": "churn-watch",
        "endpoint": "churn",
        "rule": "drifting",
        "condition": "drift.drift_share >= 0.5",
        "state": state,
        "value": 0.75,
        "threshold": 0.5,
        "consecutive": 3,
        "window": {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T01:00:00+00:00"},
        "evaluated_at": "2026-01-01T01:00:00+00:00",
        "summary": f"[{state.upper()}] ml/prod monitor churn-watch, rule drifting",
    }


def check_alert_sink(
    sink: AlertSink,
    target: str = "",
    *,
    secret: str | None = None,
    received: Callable[[], list[dict[str, Any]]] | None = None,
    broken_target: str | None = None,
) -> None:
    """Raise ``AssertionError`` naming the first broken rule of the contract."""
    _expect(
        isinstance(sink, AlertSink) and not isinstance(sink, type),
        f"{sink!r} does not implement the AlertSink protocol (name, check, deliver)",
    )
    try:
        check_name(sink.name, "name")
    except Exception as exc:
        raise AssertionError(f"sink name {sink.name!r} is not a valid name: {exc}") from None
    try:
        stored = sink.check(target)
    except Exception as exc:
        raise AssertionError(
            f"check({target[:60]!r}) refused the target: {type(exc).__name__}: {exc}"
        ) from None
    _expect(isinstance(stored, str), f"check({target!r}) returned {stored!r}, not a string")
    for junk in _JUNK:
        try:
            answer = sink.check(junk)
        except ValueError as exc:
            _expect(bool(str(exc)), f"check({junk[:20]!r}) raised a ValueError without a message")
        except Exception as exc:
            raise AssertionError(
                f"check({junk[:20]!r}) raised {type(exc).__name__}, not ValueError"
            ) from None
        else:
            _expect(isinstance(answer, str), f"check({junk[:20]!r}) returned {answer!r}")
    config = SinkConfig(kind=sink.name, target=stored, secret=secret)
    for state in ("firing", "resolved"):
        alert = sample_alert(state)
        before = copy.deepcopy(alert)
        done = sink.deliver(alert, config)
        _expect(isinstance(done, Delivery), f"deliver returned {done!r}, not a Delivery")
        _expect(done.ok, f"delivering a {state} alert failed: {done.detail}")
        _expect(done.attempts >= 1, f"a delivery made {done.attempts} attempt(s)")
        _expect(isinstance(done.detail, str), "a delivery's detail is not a string")
        _expect(alert == before, "deliver changed the alert it was given")
    if received is not None:
        got = received()
        states = [a.get("state") for a in got]
        _expect(
            states == ["firing", "resolved"],
            f"the receiving end saw {states} (expected each alert once, in order)",
        )
        _expect(got[0] == sample_alert("firing"), f"the alert arrived changed: {got[0]}")
    if broken_target is not None:
        try:
            done = sink.deliver(sample_alert(), SinkConfig(kind=sink.name, target=broken_target))
        except Exception as exc:
            raise AssertionError(f"deliver raised {type(exc).__name__}: {exc}") from None
        _expect(not done.ok, f"a delivery to {broken_target!r} reported success")
        _expect(bool(done.detail), "a failed delivery does not say why")
