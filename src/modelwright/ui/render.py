"""Templates and the headers every page carries."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from modelwright.ui.links import lineage_link

__all__ = ["CSP", "UI_EVENTS", "page", "page_headers"]

# The domain events as Server-Sent Events for the pages: the server serves the REST API's
# stream there too, authenticated by the session cookie.
UI_EVENTS = "/events/stream"

# Everything comes from this server: no inline script, no third party, no framing. Style
# attributes are allowed (uPlot positions its legend and cursor with them), <style> elements
# are not.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)

_env = Environment(
    loader=PackageLoader("modelwright.ui", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _query(base: dict[str, Any], **changes: Any) -> str:
    """``?…`` of ``base`` with ``changes`` (``None`` removes a key): links that keep the
    rest of a view (filter, sort, columns) as they are."""
    merged = {**base, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "")}
    return "?" + urlencode(kept) if kept else "?"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.isoformat()


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


_env.globals["query"] = _query
_env.globals["events_path"] = UI_EVENTS
_env.globals["lineage_link"] = lineage_link
_env.filters["when"] = _when
_env.filters["number"] = _number
_env.filters["pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status)
    page_headers(response)
    return response


def page_headers(response: Response, csp: str = CSP) -> None:
    """The headers of every answer the UI gives: its CSP, never cached, never sniffed."""
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
