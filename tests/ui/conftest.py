"""A live server with the UI over a seeded platform: an admin, a viewer, and runs."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
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


# Debian's Chromium: Playwright's own browser download is not something a test may need.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``MODELWRIGHT_SCREENSHOTS`` (the README's come from
    ``MODELWRIGHT_SCREENSHOTS=docs/screenshots``), else the test's own directory."""
    where = Path(os.environ.get("MODELWRIGHT_SCREENSHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where
