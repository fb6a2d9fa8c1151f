"""Ground-truth labels of captured requests: sent as records, a frame, a CSV or Parquet file
or a dataset version; re-sent labels replace; unknown request ids are counted and stored;
bad input and people without data.write change nothing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import Connector
from tests.monitoring import test_monitors
from tests.monitoring.monitor_data import FEATURES, capture_predictions, customers, records
from tests.monitoring.test_monitors import WHERE

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound, PermissionDenied

lake = test_monitors.lake  # the fixture: ml/dev, endpoint churn, baseline customers@v1
Unchanged = Callable[[], AbstractContextManager[None]]


def _watch(client: Client) -> None:
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)


def test_labels_are_stored_by_request_id_and_resent_ones_replace(
    lake: Path, client: Client
) -> None:
    _watch(client)
    ids = capture_predictions(lake, records(customers(3)[FEATURES]), [0, 1, 0])
    first = client.log_labels(
        "watch", [{"request_id": ids[0], "label": 1}, {"request_id": "ghost-1", "label": 0}],
        **WHERE,
    )  # fmt: skip
    assert (first.received, first.stored, first.replaced) == (2, 2, 0)
    assert (first.unknown, first.unknown_examples) == (1, ["ghost-1"])
    again = client.log_labels(
        "watch", pd.DataFrame({"request_id": [ids[0], ids[1]], "label": ["no", "yes"]}), **WHERE
    )
    assert (again.received, again.stored, again.replaced, again.unknown) == (2, 1, 1, 0)
    found = {r.request_id: r.label for r in client.query_labels("watch", **WHERE)}
    assert found == {ids[0]: "no", ids[1]: "yes", "ghost-1": 0}
    some = client.query_labels("watch", request_ids=[ids[1], "nope"], **WHERE)
    assert [(r.request_id, r.received_by) for r in some] == [(ids[1], "admin")]


def test_labels_from_a_dataset_version(lake: Path, client: Client) -> None:
    _watch(client)
    ids = capture_predictions(lake, records(customers(2)[FEATURES]), [0, 1])
    client.register_dataset(
        "outcomes", pd.DataFrame({"rid": ids, "churned": [True, False]}), **WHERE
    )
    r = client.log_labels(
        "watch", dataset="outcomes@v1", id_column="rid", label_column="churned", **WHERE
    )
    assert (r.received, r.stored, r.unknown) == (2, 2, 0)
    assert {x.label for x in client.query_labels("watch", **WHERE)} == {True, False}


def test_bad_labels_are_refused_and_change_nothing(
    lake: Path, client: Client, unchanged: Unchanged
) -> None:
    _watch(client)
    with unchanged(), pytest.raises(InvalidInput, match="no column 'label'") as bad:
        client.log_labels("watch", pd.DataFrame({"request_id": ["a"], "y": [1]}), **WHERE)
    assert bad.value.details["missing_columns"] == ["label"]
    with unchanged(), pytest.raises(InvalidInput, match="no row"):
        client.log_labels("watch", pd.DataFrame({"request_id": [], "label": []}), **WHERE)
    with unchanged(), pytest.raises(InvalidInput, match="without a request id or a label"):
        client.log_labels("watch", [{"request_id": "a", "label": None}], **WHERE)
    with unchanged(), pytest.raises(InvalidInput, match="labels"):
        client.call(client_ops().LOG_LABELS, **WHERE, name="watch", labels=[])
    with unchanged(), pytest.raises(InvalidInput, match="label"):
        client.call(
            client_ops().LOG_LABELS, **WHERE, name="watch",
            labels=[{"request_id": "a", "label": [1, 2]}],
        )  # fmt: skip
    with unchanged(), pytest.raises(NotFound, match="monitor 'nope'"):
        client.log_labels("nope", [{"request_id": "a", "label": 1}], **WHERE)


def client_ops():  # type: ignore[no-untyped-def]
    from modelwright.api import labels

    return labels


def test_writing_labels_needs_data_write_and_readers_read_them(
    lake: Path, client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    _watch(client)
    vera, alice = connector.as_principal("vera"), connector.as_principal("alice")
    with unchanged(), pytest.raises(PermissionDenied, match=r"data\.write"):
        vera.log_labels("watch", [{"request_id": "a", "label": 1}], **WHERE)
    alice.log_labels("watch", [{"request_id": "a", "label": 1}], **WHERE)
    assert [r.received_by for r in vera.query_labels("watch", **WHERE)] == ["alice"]
    connector.local_admin.create_principal("olga")
    with pytest.raises(NotFound):
        connector.as_principal("olga").query_labels("watch", **WHERE)
