"""A live server with the UI over a seeded platform: an admin, a viewer, and runs."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pandas as pd
import pytest
from playwright.sync_api import Browser, BrowserType, Page, Playwright, expect, sync_playwright
from tests.conftest import LiveServer

from modelwright.client import Client
from modelwright.core.platform import Platform
from modelwright.errors import Conflict
from modelwright.server import create_app
from modelwright.ui.auth import UiAuth


@dataclass
class Seeded:
    url: str
    admin_token: str
    viewer_token: str
    outsider_token: str
    run_ids: dict[str, str]
    auth: UiAuth


def _log_files(run: Any, where: Path) -> None:
    """Artifacts of each kind the run page previews."""
    where.mkdir()
    pd.DataFrame({"id": range(500), "score": [i / 500 for i in range(500)]}).to_csv(
        where / "scores.csv", index=False
    )
    pd.DataFrame({"id": range(1000), "label": ["a", "b"] * 500}).to_parquet(
        where / "labels.parquet"
    )
    (where / "config.json").write_text('{"depth": 3, "lr": 0.1}')
    # A report that tries to run script and reach the page's cookies: it must not.
    (where / "report.html").write_text(
        "<h1>Report</h1><script>parent.document.title = 'owned'</script>"
    )
    for name in ("scores.csv", "labels.parquet", "config.json", "report.html"):
        run.log_artifact(where / name)


@pytest.fixture
def seeded(local_client: Client, platform: Platform, tmp_path: Path) -> Iterator[Seeded]:
    c = local_client
    files = tmp_path / "files"
    c.create_workspace("ml")
    c.create_principal("vera")
    c.grant("vera", "viewer", "ml")
    admin = c.create_token(name="ui-admin").secret
    viewer = c.create_token(principal="vera", name="ui-viewer").secret
    c.create_principal("otto")  # no grant anywhere
    outsider = c.create_token(principal="otto", name="ui-outsider").secret
    run_ids: dict[str, str] = {}
    for i, (depth, auc) in enumerate([(3, 0.71), (5, 0.93), (7, 0.82), (9, 0.64)]):
        with c.start_run("churn", workspace="ml", name=f"run-{i}", snapshot=False) as run:
            run.log_params({"depth": str(depth), "lr": "0.1"})
            for step in range(50):
                run.log_metric("loss", 1.0 / (step + 1 + i), step=step)
            run.log_metric("auc", auc)
            if i == 0:
                _log_files(run, files)
        run_ids[f"run-{i}"] = run.id
    live = c.start_run("churn", workspace="ml", name="still-going", snapshot=False)
    run_ids["still-going"] = live.id
    app = create_app(platform)
    with LiveServer(platform, app=app) as server:
        yield Seeded(server.url, admin, viewer, outsider, run_ids, app.state.ui_auth)
    with contextlib.suppress(Conflict):  # a test may have killed it
        live.end()


@dataclass
class Catalog:
    """What the model and dataset pages show: two versions of a dataset, a run that trained
    two versions of a model on the second, and the model's champion alias moved once."""

    seeded: Seeded
    train_run: str


@pytest.fixture
def catalog(
    seeded: Seeded, local_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Catalog:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(tmp_path / "client-cache"))
    c = local_client
    # Under the home: a root both the server and the in-process client allow.
    c.create_datastore("ml", "dev", "lake", str(tmp_path / "home" / "data" / "lake"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 200),
            "income": rng.normal(50_000, 12_000, 200).round(2),
            "city": rng.choice(["paris", "lyon", "nice"], 200),
        }
    )
    c.register_dataset("customers", frame[:150], workspace="ml", environment="dev")
    c.register_dataset(
        "customers",
        frame.assign(city=frame.city.replace("nice", "lille")),
        workspace="ml",
        environment="dev",
        description="every customer",
    )
    features, labels = frame[["age", "income"]], frame.age > 50
    for C, auc in [(0.1, 0.84), (1.0, 0.91)]:
        with c.start_run("churn", workspace="ml", name=f"train-{C}", snapshot=False) as run:
            c.load_dataset("customers@v2", workspace="ml", environment="dev", run_id=run.id)
            model = LogisticRegression(C=C, max_iter=500).fit(features, labels)
            run.log_model(model, "churner", input_example=features[:5])
            run.log_metric("auc", auc)
    c.set_alias("churner", "champion", 1, workspace="ml", environment="dev", reason="first")
    c.set_alias("churner", "champion", 2, workspace="ml", environment="dev", reason="better")
    return Catalog(seeded, run.id)


# Debian's Chromium: Playwright's own browser download is not something a test may need.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


# pytest-playwright starts Playwright once a session; its sync API then keeps an event loop
# running in the test thread, and every later test of that worker calling asyncio.run() fails.
# Started and stopped a module at a time instead, the loop is gone when the module ends.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser_context_args() -> dict[str, Any]:
    return {}  # no device emulation, no base URL: the tests give full URLs


@pytest.fixture(scope="module")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return cast("BrowserType", getattr(playwright, browser_name))


@pytest.fixture(scope="module")
def browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any]
) -> Iterator[Browser]:
    launched = browser_type.launch(**browser_type_launch_args)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def watched(page: Page) -> Iterator[Page]:
    """``page``, failing the test on any console error or failed request."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"{r.url}: {r.failure}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    yield page
    assert not problems, "\n".join(problems)


def sign_in(page: Page, seeded: Seeded, token: str, start: str = "/w/ml/runs") -> None:
    page.goto(seeded.url + start)
    expect(page).to_have_url(f"{seeded.url}/sign-in?next=" + quote(start, safe=""))
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(seeded.url + start)
    # Settled, so that going on to another page aborts nothing this one still loads (its icon).
    page.wait_for_load_state("networkidle")


def unlabelled_controls(page: Page) -> list[str]:
    """The names of the page's inputs and selects that have no label."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select')]
             .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
             .map(e => e.name)"""
    )
    return found


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``MODELWRIGHT_SCREENSHOTS`` (the README's come from
    ``MODELWRIGHT_SCREENSHOTS=docs/screenshots``), else the test's own directory."""
    where = Path(os.environ.get("MODELWRIGHT_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where
