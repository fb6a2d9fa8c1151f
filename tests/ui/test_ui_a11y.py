"""Accessibility of every page in Chromium: axe-core (vendored under ``tests/ui/vendor``, a
test tool, not shipped) finds no serious or critical violation on any page reached from the
home page by its links, one page a route, in light and dark colours; the keyboard reaches the
skip link, the navigation, a table's sort links and the graph's nodes, with a visible focus."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from starlette.routing import Match, Route
from tests.ui.conftest import Catalog, Seeded, sign_in
from tests.ui.test_ui_lineage import served  # noqa: F401 - a fixture
from tests.ui.test_ui_pipelines import Pipelines, pipelines  # noqa: F401 - a fixture

from modelwright.ui.views import ROUTES

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Pages a test seeds the data of, so the walk must reach them (others found on the way are
# checked too: a page added later is covered once a link leads to it).
EXPECTED = {
    "/",
    "/audit",
    "/w/{workspace}/runs",
    "/runs/{run_id}",
    "/runs/{run_id}/artifacts/{path:path}",
    "/w/{workspace}/compare",
    "/w/{workspace}/access",
    "/w/{workspace}/models",
    "/w/{workspace}/models/{name}",
    "/w/{workspace}/models/{name}/versions/{version}",
    "/w/{workspace}/datasets",
    "/w/{workspace}/datasets/{environment}/{name}",
    "/w/{workspace}/datasets/{environment}/{name}/{version}",
    "/w/{workspace}/lineage",
    "/w/{workspace}/pipelines",
}
_MATCHERS = [Route(path, endpoint, methods=methods) for path, endpoint, methods in ROUTES]
_MAX_PAGES = 80


@pytest.fixture
def everything(pipelines: Pipelines, served: Catalog) -> Seeded:  # noqa: F811
    """Runs, artifacts, datasets, models, an endpoint serving one, and pipeline runs."""
    return served.seeded


def _route(path: str) -> str | None:
    """The route pattern serving a GET of ``path``."""
    scope = {"type": "http", "path": path, "method": "GET"}
    for r in _MATCHERS:
        if r.matches(scope)[0] == Match.FULL:
            return r.path
    return None


def _links(page: Page) -> list[str]:
    # getAttribute, not .href: a link inside SVG has an SVGAnimatedString there.
    found: list[str] = page.eval_on_selector_all(
        "a[href]", "els => els.map(e => new URL(e.getAttribute('href'), location.href).href)"
    )
    return found


def _serious(page: Page, only: list[str] | None = None) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's protocol: the page's CSP forbids inline script (a
        # script tag added to the page would be refused), and stays on for the test.
        page.evaluate(f"() => {{ {AXE.read_text()}\n; window.axe = axe; }}")
    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if only:
        options["runOnly"] = {"type": "rule", "values": only}
    result = page.evaluate("options => axe.run(document, options)", options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _is_page(page: Page, url: str) -> bool:
    """Whether ``url`` answers a whole HTML page (not a file, a series or a fragment)."""
    r = page.request.get(url, max_redirects=0)
    return (
        r.status == 200
        and r.headers.get("content-type", "").startswith("text/html")
        and '<main id="main">' in r.text()
    )


def test_every_page_has_no_serious_accessibility_violation(
    watched: Page, everything: Seeded
) -> None:
    page = watched
    page.goto(everything.url + "/sign-in", wait_until="networkidle")
    problems = {"/sign-in": _serious(page)}
    sign_in(page, everything, everything.admin_token, start="/")
    seen: dict[str, str] = {}
    runs = everything.run_ids
    # A comparison is reached by a form, not a link.
    compare = f"/w/ml/compare?run={runs['run-0']}&run={runs['run-1']}"
    queue = deque([everything.url + "/", everything.url + compare])
    while queue and len(seen) < _MAX_PAGES:
        url = queue.popleft()
        parts = urlsplit(url)
        if parts.netloc != urlsplit(everything.url).netloc:
            continue
        route = _route(parts.path)
        if route is None or route in seen or not _is_page(page, url):
            continue
        seen[route] = url
        page.goto(url, wait_until="networkidle")
        violations = _serious(page)
        page.emulate_media(color_scheme="dark")
        violations += [f"dark: {p}" for p in _serious(page, only=["color-contrast"])]
        page.emulate_media(color_scheme="light")
        problems[url] = violations
        queue.extend(_links(page))
    assert set(seen) >= EXPECTED, sorted(EXPECTED - set(seen))
    found = [f"{url}: {p}" for url, ps in problems.items() for p in ps]
    assert not found, "\n".join(found)


def test_the_keyboard_reaches_the_nav_sort_links_and_graph_nodes_with_visible_focus(
    watched: Page, everything: Seeded
) -> None:
    page = watched
    sign_in(page, everything, everything.admin_token)

    def focused() -> dict[str, Any]:
        info: dict[str, Any] = page.evaluate(
            """() => {
                 const e = document.activeElement;
                 const box = e.closest('g.node') ? e.querySelector('rect, text') : e;
                 const s = getComputedStyle(box);
                 return {text: (e.getAttribute('aria-label') || e.textContent).trim(),
                         nav: !!e.closest('nav'), head: !!e.closest('thead'),
                         outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                         stroke: parseFloat(s.strokeWidth) >= 3};
               }"""
        )
        return info

    page.keyboard.press("Tab")
    first = focused()
    assert first["text"] == "Skip to content" and first["outline"]
    page.keyboard.press("Tab")
    brand = focused()
    assert brand["nav"] and brand["text"] == "modelwright" and brand["outline"]
    for _ in range(60):
        page.keyboard.press("Tab")
        if focused()["head"]:
            break
    sort = focused()
    assert sort["head"] and sort["outline"], sort
    page.keyboard.press("Enter")
    expect(page.locator("th[aria-sort]")).to_have_count(1)

    page.goto(everything.url + "/w/ml/lineage?node=models:/churner/2", wait_until="networkidle")
    for _ in range(40):
        page.keyboard.press("Tab")
        if "centre the graph here" in focused()["text"]:
            break
    node = focused()
    assert "centre the graph here" in node["text"] and node["stroke"], node
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("churner/v2")
