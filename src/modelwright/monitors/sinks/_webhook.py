"""The ``webhook`` sink: an HTTP POST of the alert, signed, retried with backoff.

The platform's workers open the URL, so only http and https URLs are accepted, redirects
are not followed (a redirect could lead anywhere, in any scheme), and a host that resolves
to a loopback, private, link-local or otherwise non-public address (the workers' own
services, a cloud metadata endpoint) is refused unless the operator allows it with
``MODELWRIGHT_ALERT_WEBHOOK_PRIVATE=true`` (a receiver inside the network)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import os
import socket
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from modelwright.monitors.sinks._base import Delivery, SinkConfig

__all__ = ["PRIVATE_ENV", "SIGNATURE_HEADER", "WebhookSink", "sign"]

SIGNATURE_HEADER = "X-Modelwright-Signature"
PRIVATE_ENV = "MODELWRIGHT_ALERT_WEBHOOK_PRIVATE"


def _non_public(host: str) -> str | None:
    """The first address ``host`` resolves to that is not public, if any."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return None  # unresolvable: the POST fails and says so
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return str(address)
    return None


def sign(secret: str, body: bytes) -> str:
    """The header's value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class WebhookSink:
    name = "webhook"

    def __init__(
        self,
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        timeout: float = 10.0,
        allow_private: bool | None = None,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self._allow_private = allow_private

    @property
    def allow_private(self) -> bool:
        """Set on the sink, else the operator's ``MODELWRIGHT_ALERT_WEBHOOK_PRIVATE``."""
        if self._allow_private is not None:
            return self._allow_private
        return os.environ.get(PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes")

    def _refused(self, host: str) -> str:
        if self.allow_private:
            return ""
        address = _non_public(host)
        if address is None:
            return ""
        return (
            f"refused: {host} resolves to {address}, not a public address (an operator may "
            f"allow such receivers with {PRIVATE_ENV}=true)"
        )

    def check(self, target: str) -> str:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https"):
            raise ValueError(
                f"webhook URL {target!r}: only http and https URLs are accepted "
                "(the platform's workers open it)"
            )
        if not parts.hostname:
            raise ValueError(f"webhook URL {target!r} has no host")
        if parts.username or parts.password:
            raise ValueError("webhook URL: put no credentials in the URL (use the secret)")
        try:  # a literal address is refused at once; names are checked at each delivery
            literal = ipaddress.ip_address(parts.hostname)
        except ValueError:
            return target
        if problem := self._refused(str(literal)):
            raise ValueError(f"webhook URL {target!r}: {problem}")
        return target

    def body(self, alert: dict[str, Any], config: SinkConfig) -> bytes:
        if config.format == "slack":
            return json.dumps({"text": alert.get("summary", "")}).encode()
        return json.dumps(alert, sort_keys=True).encode()

    def deliver(self, alert: dict[str, Any], config: SinkConfig) -> Delivery:
        body = self.body(alert, config)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "modelwright-alerts",
            "X-Modelwright-Event": f"alert.{alert.get('state', '')}",
        }
        if config.secret:
            headers[SIGNATURE_HEADER] = sign(config.secret, body)
        # Checked at delivery, not only when the rule was added: what a name resolves to
        # changes.
        if refused := self._refused(urlsplit(config.target).hostname or ""):
            return Delivery(ok=False, attempts=0, detail=refused)
        detail = ""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                time.sleep(self.backoff * 2 ** (attempt - 2))
            retry, detail = self._post(config.target, body, headers)
            if not retry and not detail:
                return Delivery(ok=True, attempts=attempt, detail="delivered")
            if not retry:
                return Delivery(ok=False, attempts=attempt, detail=detail)
        return Delivery(ok=False, attempts=self.attempts, detail=detail)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, str]:
        """``(retry, problem)``: no problem is a delivery; server errors, 429 and network
        failures are retried, other answers are not."""
        # The scheme was checked when the rule was added (http or https only).
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with _OPENER.open(request, timeout=self.timeout) as answer:
                answer.read(65536)
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return True, f"could not reach it: {reason}"
        if 200 <= status < 300:
            return False, ""
        return status >= 500 or status == 429, f"HTTP {status}"
