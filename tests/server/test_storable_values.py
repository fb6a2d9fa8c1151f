"""Values that pass their types but that a database cannot hold are a 400 naming the field, on
SQLite and PostgreSQL, through HTTP and in process: integers past their columns' range (in the
path, the query and the body), NUL characters, times out of range once converted to UTC. The
values at the edges of the ranges are kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from tests.conftest import LiveServer, snapshot

from modelwright.api import OPERATIONS, tracking
from modelwright.client import Client, LocalTransport
from modelwright.core.ints import INT32_MAX, INT64_MAX, INT64_MIN
from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput

V1 = "/api/v1"


@pytest.fixture
def admin(platform: Platform) -> Iterator[Client]:
    with Client(LocalTransport(platform)) as c:
        yield c


@pytest.fixture
def http(platform: Platform, admin: Client) -> Iterator[httpx.Client]:
    token = admin.create_token(name="ints").secret
    with (
        LiveServer(platform) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c,
    ):
        yield c


@pytest.fixture
def run_id(admin: Client) -> str:
    admin.create_workspace("w")
    return admin.start_run("exp", workspace="w", environment="dev").id


def _refused(response: httpx.Response, field: str, words: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"]["field"] == field
    assert error["message"].startswith(f"{field}: ")
    assert words in error["message"]


def _metrics(steps: list[int], timestamps: list[int]) -> dict[str, Any]:
    n = len(steps)
    return {"keys": ["loss"] * n, "values": [0.5] * n, "steps": steps, "timestamps": timestamps}


@pytest.mark.parametrize("value", [2**63, 2**64, 10**30])
def test_body_integers_past_64_bits_are_refused_naming_the_field(
    http: httpx.Client, platform: Platform, run_id: str, value: int
) -> None:
    before = snapshot(platform)
    batch = f"{V1}/runs/{run_id}/log-batch"
    _refused(
        http.post(batch, json={"metrics": _metrics([value], [0])}),
        "metrics.steps[0]",
        f"less than or equal to {INT64_MAX}",
    )
    _refused(
        http.post(batch, json={"metrics": _metrics([0, 1], [0, -value - 1])}),
        "metrics.timestamps[1]",
        f"greater than or equal to {INT64_MIN}",
    )
    _refused(
        http.post(
            f"{V1}/runs/{run_id}/artifacts",
            json={"artifacts": [{"path": "a", "digest": "0" * 64, "size": value}]},
        ),
        "artifacts[0].size",
        f"less than or equal to {INT64_MAX}",
    )
    assert snapshot(platform) == before


@pytest.mark.parametrize("value", [INT32_MAX + 1, 2**63, 10**30])
def test_ids_and_versions_past_the_integer_columns_are_refused_in_path_and_body(
    http: httpx.Client, platform: Platform, admin: Client, value: int
) -> None:
    admin.create_workspace("w")
    before = snapshot(platform)
    _refused(http.post(f"{V1}/tokens/{value}/revoke"), "token_id", "less than or equal to")
    _refused(
        http.get(f"{V1}/workspaces/w/models/m/versions/{value}"), "version", "less than or equal"
    )
    _refused(
        http.put(
            f"{V1}/workspaces/w/models/m/aliases/champion",
            json={"environment": "dev", "version": value},
        ),
        "version",
        f"less than or equal to {INT32_MAX}",
    )
    _refused(
        http.put(
            f"{V1}/workspaces/w/environments/dev/endpoints/e/deployments/d",
            json={"model": "m", "version": value},
        ),
        "version",
        f"less than or equal to {INT32_MAX}",
    )
    _refused(http.post(f"{V1}/tokens/{-value - 1}/revoke"), "token_id", "greater than or equal to")
    assert snapshot(platform) == before


def test_query_integers_out_of_range_are_refused(http: httpx.Client) -> None:
    _refused(http.get(f"{V1}/audit", params={"limit": str(2**64)}), "limit", "less than or equal")
    _refused(
        http.get(f"{V1}/workspaces/w/lineage", params={"entity": "run:x", "depth": str(2**63)}),
        "depth",
        "less than or equal",
    )


def test_ids_that_fit_but_do_not_exist_are_not_found(http: httpx.Client) -> None:
    response = http.post(f"{V1}/tokens/{INT32_MAX}/revoke")
    assert response.status_code == 404, response.text


def test_metric_steps_and_timestamps_at_the_edges_of_64_bits_are_kept(
    http: httpx.Client, run_id: str
) -> None:
    batch = {"metrics": _metrics([INT64_MIN, INT64_MAX], [INT64_MAX, INT64_MIN])}
    assert http.post(f"{V1}/runs/{run_id}/log-batch", json=batch).status_code == 200
    history = http.get(f"{V1}/runs/{run_id}/metrics/loss").json()
    assert history["steps"] == [INT64_MIN, INT64_MAX]
    assert history["timestamps"] == [INT64_MAX, INT64_MIN]


def _integers(schema: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(schema, dict):
        if schema.get("type") == "integer":
            yield where, schema
        for key, value in schema.items():
            yield from _integers(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            yield from _integers(value, f"{where}[{i}]")


@pytest.mark.parametrize("db", ["sqlite"])
def test_every_integer_of_every_request_states_a_range_the_database_holds(db: str) -> None:
    requests: set[type[BaseModel]] = {op.request for op in OPERATIONS}
    found = 0
    for model in requests:
        for where, schema in _integers(model.model_json_schema()):
            found += 1
            assert schema.get("minimum", INT64_MIN - 1) >= INT64_MIN, (model.__name__, where)
            assert schema.get("maximum", INT64_MAX + 1) <= INT64_MAX, (model.__name__, where)
    assert found >= 15


NUL = "a\x00b"
NUL_MESSAGE = "must not contain NUL (\\x00) characters"


def test_nul_characters_anywhere_in_a_request_are_refused_naming_the_field(
    http: httpx.Client, platform: Platform, run_id: str
) -> None:
    before = snapshot(platform)
    cases: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None, str]] = [
        ("POST", f"{V1}/workspaces", {"name": "z", "description": NUL}, None, "description"),
        ("POST", f"{V1}/principals", {"name": "p", "email": NUL}, None, "email"),
        ("POST", f"{V1}/tokens", {"name": NUL}, None, "name"),
        ("GET", f"{V1}/grants", None, {"principal": NUL}, "principal"),
        ("GET", f"{V1}/audit", None, {"action": NUL}, "action"),
        ("POST", f"{V1}/runs/{run_id}/log-batch", {"params": {"p": NUL}}, None, "params"),
        ("POST", f"{V1}/runs/{run_id}/log-batch", {"tags": {"t": NUL}}, None, "tags"),
        ("POST", f"{V1}/runs/{run_id}/end", {"error": NUL}, None, "error"),
        (
            "POST",
            f"{V1}/runs/search",
            {"workspace": "w", "filter": f"name = '{NUL}'"},
            None,
            "filter",
        ),
        ("GET", f"{V1}/workspaces/w/lineage", None, {"entity": f"run:{NUL}"}, "entity"),
        (
            "POST",
            f"{V1}/runs",
            {"workspace": "w", "environment": "dev", "experiment": "e", "snapshot": {NUL: [1]}},
            None,
            "snapshot",
        ),
        (
            "POST",
            f"{V1}/platform/apply",
            {"spec": {"workspaces": [{"name": "q", "description": NUL}]}},
            None,
            "spec.workspaces[0].description",
        ),
    ]
    for method, path, body, query, field in cases:
        _refused(http.request(method, path, json=body, params=query), field, NUL_MESSAGE)
    assert snapshot(platform) == before


@pytest.mark.parametrize("time", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_times_out_of_range_in_utc_are_refused_naming_the_field(
    http: httpx.Client, platform: Platform, admin: Client, time: str
) -> None:
    admin.create_workspace("w")
    before = snapshot(platform)
    message = "must be a time between years 1 and 9999 once converted to UTC"
    _refused(http.get(f"{V1}/audit", params={"since": time}), "since", message)
    _refused(http.get(f"{V1}/audit", params={"until": time}), "until", message)
    _refused(http.post(f"{V1}/tokens", json={"expires_at": time}), "expires_at", message)
    _refused(
        http.post(f"{V1}/runs/search", json={"workspace": "w", "filter": f"started_at > '{time}'"}),
        "filter",
        f"filter: started_at: {message}",
    )
    assert snapshot(platform) == before


def test_the_in_process_client_refuses_the_same_values(admin: Client, run_id: str) -> None:
    with pytest.raises(InvalidInput, match="description: must not contain NUL"):
        admin.create_workspace("z", description=NUL)
    with pytest.raises(InvalidInput, match=r"metrics.steps\[0\]: Input should be less than"):
        admin.call(tracking.LOG_BATCH, run_id=run_id, metrics=_metrics([2**63], [0]))
