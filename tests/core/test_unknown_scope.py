"""A misspelt workspace or environment is the same error in every list, never an empty one;
workspace errors name the workspaces the caller can see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.conftest import Connector

import modelwright
from modelwright.client import Client
from modelwright.errors import NotFound

NO_DVE = r"environment 'dve' not found in workspace 'ml' \(it has: dev, staging, prod\)"


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    client.create_workspace("other")
    return "ml"


LISTS: dict[str, Callable[[Client, dict[str, Any]], object]] = {
    "runs": lambda c, kw: c.search_runs("", **kw),
    "datasets": lambda c, kw: c.list_datasets(**kw),
    "endpoints": lambda c, kw: c.list_endpoints(**kw),
    "monitors": lambda c, kw: c.list_monitors(**kw),
    "rollouts": lambda c, kw: c.list_rollouts(**kw),
    "jobs": lambda c, kw: c.list_jobs(**kw),
}


@pytest.mark.parametrize("what", sorted(LISTS))
def test_an_unknown_environment_is_named_by_every_list(client: Client, ws: str, what: str) -> None:
    with pytest.raises(NotFound, match=NO_DVE):
        LISTS[what](client, {"workspace": ws, "environment": "dve"})
    LISTS[what](client, {"workspace": ws, "environment": "dev"})  # a known one is a list


def test_an_unknown_workspace_lists_the_ones_the_caller_sees(
    connector: Connector, client: Client, ws: str
) -> None:
    for call in (
        lambda c: c.search_runs("", workspace="mll"),
        lambda c: c.list_promotions(workspace="mll"),
        lambda c: c.list_monitors(workspace="mll"),
        lambda c: c.list_datasets(workspace="mll"),
        lambda c: c.get_workspace("mll"),
    ):
        with pytest.raises(NotFound, match=r"workspace 'mll' not found \(you can see: ml, other\)"):
            call(client)
    client.create_principal("sam")
    client.grant("sam", "viewer", ws)
    sam = connector.as_principal("sam")
    with pytest.raises(NotFound, match=r"workspace 'other' not found \(you can see: ml\)") as e:
        sam.search_runs("", workspace="other")  # exists, but not for sam: the same answer
    assert e.value.details["visible"] == ["ml"]


def test_an_environment_filter_without_a_workspace_must_exist_in_one(
    client: Client, ws: str
) -> None:
    with pytest.raises(NotFound, match="environment 'dve' not found in any workspace you can see"):
        client.list_rollouts(environment="dve")
    assert list(client.list_rollouts(environment="dev")) == []


def test_a_misspelt_acting_environment_is_named_at_first_use(
    connector: Connector, client: Client, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with client.start_run("x", workspace=ws):
        pass
    client.act_in("dve")
    with pytest.raises(NotFound, match=NO_DVE):
        client.search_runs("", workspace=ws)  # not every run, as if no environment were set
    client.act_in(f"{ws}/dve")
    with pytest.raises(NotFound, match=NO_DVE):
        client.list_jobs()
    client.act_in(None)
    if connector.kind == "http":  # the variable is read where a client connects
        monkeypatch.setenv("MODELWRIGHT_ENVIRONMENT", "dve")
        token = client.create_token(name="env").secret
        with (
            modelwright.connect(connector.url, token=token) as env_client,
            pytest.raises(NotFound, match=NO_DVE),
        ):
            env_client.list_monitors(workspace=ws)
