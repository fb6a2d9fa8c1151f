"""The ``webhook`` sink: an HTTP POST of the alert, signed, retried with backoff.

The platform's workers open the URL, so only http and https URLs are accepted, and
redirects are not followed (a redirect could lead anywhere, in any scheme)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from modelwright.monitors.sinks._base import Delivery, SinkConfig

__all__ = ["SIGNATURE_HEADER", "WebhookSink", "sign"]

SIGNATURE_HEADER = "X-Modelwright-Signature"


def sign(secret: str, body: bytes) -> str:
    """The header's value: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


class WebhookSink:
    name = "webhook"

    def __init__(self, *, attempts: int = 4, backoff: float = 0.5, timeout: float = 10.0) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout

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
