from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from modelwright.client import Client

PIPELINES = """
from modelwright.pipelines import node, pipeline
from tests.runner import nodes

PIPELINES = {
    "main": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw", cache=False),
        node(nodes.double, inputs="raw", outputs="doubled"),
        node(nodes.summarise, inputs=["doubled", "params:scale"], outputs="summary"),
        node(nodes.histogram, inputs="doubled", outputs="hist"),
    ]),
    "scored": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw"),
        node(nodes.summarise, inputs=["raw", "params:scale"], outputs="metrics"),
    ]),
    "evaluated": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw"),
        node(nodes.evaluate, inputs="raw", outputs="scores"),
    ]),
    "nested": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw"),
        node(nodes.nested, inputs="raw", outputs="count"),
    ]),
    "broken": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw"),
        node(nodes.broken, inputs="raw", outputs="never"),
    ]),
    "opaque": pipeline([
        node(nodes.source, inputs="params:n", outputs="raw"),
        node(nodes.opaque, inputs="raw", outputs="blob"),
        node(nodes.count, inputs="blob", outputs="size"),
    ]),
}
"""


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    def make(catalog: str = "", params: str = "n: 40\nscale: 1.5\n", dev: str = "") -> Path:
        root = tmp_path / "project"
        (root / "conf" / "base").mkdir(parents=True, exist_ok=True)
        (root / "conf" / "dev").mkdir(parents=True, exist_ok=True)
        (root / "conf" / "base" / "parameters.yml").write_text(params)
        (root / "conf" / "base" / "catalog.yml").write_text(textwrap.dedent(catalog))
        (root / "conf" / "dev" / "parameters.yml").write_text(dev)
        (root / "pipelines.py").write_text(PIPELINES)
        return root

    return make


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], list[str]]:
    """The node functions that really executed since the last call."""
    path = tmp_path / "calls.txt"
    monkeypatch.setenv("MW_TEST_CALLS", str(path))

    def read() -> list[str]:
        if not path.exists():
            return []
        names = path.read_text().split()
        path.unlink()
        return names

    return read


@pytest.fixture
def workspace(client: Client, monkeypatch: pytest.MonkeyPatch) -> str:
    """A workspace (dev → staging → prod) the runs go to, over either backend."""
    client.create_workspace("ml")
    monkeypatch.setenv("MODELWRIGHT_WORKSPACE", "ml")
    return "ml"
