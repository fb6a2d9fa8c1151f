"""A run is named by its whole id or by a unique prefix of 8 or more characters, wherever a
run id is taken, on both backends and both databases."""

from __future__ import annotations

import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound

A = "a1b2c3d4" + "0" * 24
A2 = "a1b2c3d4" + "f" * 24  # shares A's first 8 characters
B = "0badcafe" + "1" * 24


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def test_a_unique_prefix_names_the_run_in_every_operation(client: Client, ws: str) -> None:
    client.start_run("x", workspace=ws, run_id=A)
    with client.start_run("x", workspace=ws, run_id=B) as b:
        b.log_metric("m", 2.0)
    client.log_batch(A[:10], metrics=[("m", 1.0, 0, 1)], params={"depth": 3})
    detail = client.get_run(A[:8])
    assert detail.id == A and detail.params == {"depth": "3"}
    assert client.metric_history(B[:12], "m").values == [2.0]
    assert client.compare_runs([A[:8], B[:8]]).run_ids == [A, B]
    child = client.start_run("x", workspace=ws, parent_id=A[:9])
    assert child.info.parent_id == A  # the whole id is stored, not the prefix
    assert client.lineage(f"run:{A[:8]}", workspace=ws).entity.id == A
    assert client.kill_run(A[:8]).status == "killed"
    assert client.get_run(child.id).status == "killed"


def test_a_prefix_shorter_than_8_characters_is_refused(client: Client, ws: str) -> None:
    client.start_run("x", workspace=ws, run_id=A).end()
    with pytest.raises(InvalidInput, match="unique prefix of 8 or more"):
        client.get_run(A[:7])
    with pytest.raises(NotFound, match="run 'ffffffff' not found"):
        client.get_run("ffffffff")


def test_an_ambiguous_prefix_lists_the_runs_it_starts(client: Client, ws: str) -> None:
    client.start_run("x", workspace=ws, run_id=A).end()
    client.start_run("x", workspace=ws, run_id=A2).end()
    with pytest.raises(InvalidInput, match="ambiguous") as raised:
        client.get_run(A[:8])
    assert raised.value.details["candidates"] == [A, A2]
    assert A in raised.value.message and A2 in raised.value.message
    assert client.get_run(A[:9]).id == A and client.get_run(A2[:9]).id == A2


def test_candidates_are_only_runs_the_caller_may_read(
    connector: Connector, client: Client, ws: str
) -> None:
    client.create_principal("sam")
    client.create_principal("eve")
    client.grant("sam", "data-scientist", ws, "dev")
    client.start_run("x", workspace=ws, run_id=A).end()
    client.start_run("x", workspace=ws, environment="prod", run_id=A2).end()
    with pytest.raises(InvalidInput, match="ambiguous"):
        client.get_run(A[:8])  # the admin reads both
    # sam reads only dev: the prod run is no candidate, so the prefix names one run
    assert connector.as_principal("sam").get_run(A[:8]).id == A
    with pytest.raises(NotFound, match=f"run '{A[:8]}' not found"):
        connector.as_principal("eve").get_run(A[:8])
