"""The web UI: server-rendered pages (Jinja2, htmx) over the same operations as the REST API.

Every asset ships in the package (``static/vendor`` says which version of what), so the UI
works offline and sends nothing to a third party.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from modelwright.ui.auth import UiAuth
from modelwright.ui.render import UI_EVENTS
from modelwright.ui.views import ROUTES

__all__ = ["ASSETS", "UI_EVENTS", "add_ui"]

ASSETS = "/assets"
_STATIC = Path(__file__).parent / "static"


def add_ui(app: FastAPI, auth: UiAuth | None = None) -> UiAuth:
    """Mount the UI's pages at ``/`` and its assets at ``/assets``; the REST API keeps
    ``/api/``. Returns the process's ``UiAuth`` (``modelwright ui`` makes its sign-in link
    with it)."""
    ui_auth = auth or UiAuth()
    app.state.ui_auth = ui_auth
    app.mount(ASSETS, StaticFiles(directory=_STATIC), name="ui-assets")
    for path, endpoint, methods in ROUTES:
        app.add_route(path, endpoint, methods=methods, include_in_schema=False)
    return ui_auth
