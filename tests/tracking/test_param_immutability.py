"""Params are immutable within one flush interval as across flushes: the same error, from
the client's buffer before anything is sent as from the platform after."""

from __future__ import annotations

import pytest

from modelwright.client import Client
from modelwright.errors import Conflict


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def test_a_changed_param_is_refused_before_it_is_sent(
    client: Client, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "3600")  # nothing leaves on its own
    run = client.start_run("x", workspace=ws)
    run.log_param("depth", 5)
    run.log_param("depth", "5")  # the same value again is no change
    with pytest.raises(Conflict) as within:
        run.log_params({"lr": 0.1, "depth": 6})
    run.flush()
    assert client.get_run(run.id).params == {"depth": "5"}  # none of the refused call
    with pytest.raises(Conflict) as across:
        client.log_batch(run.id, params={"depth": 6})  # what the platform says once stored
    assert within.value.message == across.value.message
    assert within.value.details == across.value.details == {"run_id": run.id, "key": "depth"}
    assert "params are immutable (got '6')" in within.value.message
    run.log_param("lr", 0.1)  # the run logs on
    run.end()
    assert client.get_run(run.id).params == {"depth": "5", "lr": "0.1"}
