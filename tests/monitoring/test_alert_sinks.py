"""Alert sinks on their own: the conformance kit on the built-ins, the webhook's signature,
Slack body, retries and refusals, the command sink's stdin and exit status, the registry."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from tests.monitoring.alert_receiver import Receiver, verify

from modelwright import plugins as _plugins
from modelwright.monitors.sinks import (
    CommandSink,
    LogSink,
    SinkConfig,
    WebhookSink,
    get_sink,
    register_sink,
    sink_names,
)
from modelwright.testing import check_alert_sink
from modelwright.testing._alert_sink import sample_alert

SECRET = "a-secret-of-sixteen-chars"
FAST = WebhookSink(attempts=3, backoff=0.01, timeout=5, allow_private=True)


def test_the_builtin_sinks_pass_the_kit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Receiver() as receiver:
        check_alert_sink(
            FAST, receiver.url, secret=SECRET, received=receiver.alerts,
            broken_target="http://127.0.0.1:1/down",
        )  # fmt: skip
        assert all(verify(SECRET, h, b) for h, b in receiver.received)
    out = tmp_path / "alerts.jsonl"
    check_alert_sink(
        CommandSink(timeout=10), f"cat >> {out}; echo >> {out}",
        received=lambda: [json.loads(line) for line in out.read_text().splitlines() if line],
        broken_target="exit 3",
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="modelwright.alerts"):
        check_alert_sink(LogSink())
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "[FIRING] ml/prod monitor churn-watch" in caplog.records[0].getMessage()


def test_the_kit_catches_a_sink_that_raises() -> None:
    class Broken(LogSink):
        name = "broken"

        def check(self, target: str) -> str:
            if target:
                raise KeyError(target)
            return target

    with pytest.raises(AssertionError, match="raised KeyError, not ValueError"):
        check_alert_sink(Broken())


def test_a_signed_webhook_retried_until_the_receiver_is_back() -> None:
    alert = sample_alert()
    with Receiver(fail_first=2) as receiver:
        done = FAST.deliver(alert, SinkConfig("webhook", receiver.url, secret=SECRET))
    assert (done.ok, done.attempts, receiver.calls) == (True, 3, 3)
    [(headers, body)] = receiver.received
    assert verify(SECRET, headers, body) and not verify("another-secret-0000", headers, body)
    assert json.loads(body) == alert
    assert headers["X-Modelwright-Event"] == "alert.firing"


def test_attempts_are_bounded_and_client_errors_are_not_retried() -> None:
    with Receiver(fail_first=10) as receiver:
        done = FAST.deliver(sample_alert(), SinkConfig("webhook", receiver.url))
    assert (done.ok, done.attempts, done.detail, receiver.calls) == (False, 3, "HTTP 503", 3)
    with Receiver(fail_first=10, status=404) as receiver:
        done = FAST.deliver(sample_alert(), SinkConfig("webhook", receiver.url))
    assert (done.ok, done.attempts, done.detail) == (False, 1, "HTTP 404")


def test_a_slack_body_is_text_and_unsigned_without_a_secret() -> None:
    with Receiver() as receiver:
        FAST.deliver(sample_alert(), SinkConfig("webhook", receiver.url, format="slack"))
    [(headers, body)] = receiver.received
    assert json.loads(body) == {"text": sample_alert()["summary"]}
    assert "X-Modelwright-Signature" not in headers


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x", "example.com/hook",
            "http://user:pw@example.com/x", "http:///nohost"],
)  # fmt: skip
def test_webhooks_take_http_urls_only(url: str) -> None:
    with pytest.raises(ValueError, match="webhook URL"):
        FAST.check(url)


def test_webhooks_to_non_public_addresses_are_refused_unless_the_operator_allows_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strict = WebhookSink(attempts=1, timeout=1)
    monkeypatch.delenv("MODELWRIGHT_ALERT_WEBHOOK_PRIVATE", raising=False)
    for url in ("http://169.254.169.254/latest/meta-data", "http://127.0.0.1:9/x", "http://[::1]/x",
                "http://10.0.0.7/hook"):  # fmt: skip
        with pytest.raises(ValueError, match="not a public address"):
            strict.check(url)
    # A name is checked when delivering: what it resolves to can change after the rule.
    assert strict.check("http://localhost:9/x") == "http://localhost:9/x"
    done = strict.deliver(sample_alert(), SinkConfig("webhook", "http://localhost:9/x"))
    assert not done.ok and done.attempts == 0 and "not a public address" in done.detail
    with Receiver() as receiver:
        monkeypatch.setenv("MODELWRIGHT_ALERT_WEBHOOK_PRIVATE", "true")
        assert strict.deliver(sample_alert(), SinkConfig("webhook", receiver.url)).ok


def test_the_command_sink_gets_the_alert_on_stdin_and_its_exit_status_is_kept(
    tmp_path: Path,
) -> None:
    sink = CommandSink(timeout=0.5)
    out = tmp_path / "in.json"
    assert sink.deliver(sample_alert(), SinkConfig("command", f"cat > {out}")).ok
    assert json.loads(out.read_text()) == sample_alert()
    failed = sink.deliver(sample_alert(), SinkConfig("command", "echo nope >&2; exit 4"))
    assert (failed.ok, failed.detail) == (False, "exit status 4: nope")
    slow = sink.deliver(
        sample_alert(), SinkConfig("command", f"{sys.executable} -c 'import time; time.sleep(5)'")
    )
    assert (slow.ok, slow.detail) == (False, "timed out after 0.5 s")
    with pytest.raises(ValueError, match="needs a command"):
        sink.check("  ")


def test_the_registry_finds_sinks_by_name_and_refuses_a_taken_one() -> None:
    assert {"webhook", "command", "log"} <= set(sink_names())
    assert isinstance(get_sink("webhook"), WebhookSink) and get_sink("pager") is None
    with pytest.raises(ValueError, match="already registered"):
        register_sink(LogSink())
    with pytest.raises(TypeError, match="AlertSink protocol"):
        register_sink(object())  # type: ignore[arg-type]


class PagerSink(LogSink):
    """A third-party sink, shipped under the entry point group."""

    name = "pager"

    def check(self, target: str) -> str:
        if not target.startswith("team-"):
            raise ValueError("a pager target is a team: team-<name>")
        return target


def test_sinks_are_found_through_their_entry_point_group(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from importlib.metadata import EntryPoint

    from modelwright.monitors import sinks

    group = sinks.ENTRY_POINT_GROUP
    points = [
        EntryPoint("pager", f"{__name__}:PagerSink", group),
        EntryPoint("broken", "tests.monitoring.nowhere:Sink", group),
    ]
    monkeypatch.setattr(sinks.REGISTRY, "items", dict(sinks.REGISTRY.items))
    monkeypatch.setattr(sinks.REGISTRY, "loaded", False)
    monkeypatch.setattr(_plugins, "entry_points", lambda group: points)
    sink = get_sink("pager")
    assert isinstance(sink, PagerSink)
    check_alert_sink(sink, "team-ml")
    assert "pager" in sink_names() and "broken" not in sink_names()
    assert "alert sink entry point 'broken' could not be registered" in caplog.text
