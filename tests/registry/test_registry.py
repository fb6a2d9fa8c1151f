"""The registry through both backends (in process and HTTP) on both databases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector
from tests.registry.conftest import Doubler

from modelwright.client import Client
from modelwright.errors import (
    ArtifactCorrupted,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def _fit(frame: pd.DataFrame, labels: np.ndarray, c: float = 1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c)).fit(frame, labels)


def test_log_and_load_round_trip(client: Client, ws: str, frame, labels) -> None:
    model = _fit(frame, labels)
    with client.start_run("churn", workspace=ws) as run:
        run.log_metric("auc", 0.9)
        v1 = run.log_model(model, "churn", input_example=frame[:5], description="first")
    assert (v1.version, v1.flavor, v1.environment, v1.run_id) == (1, "sklearn", "dev", run.id)
    assert v1.available_in == ["dev"] and v1.description == "first"
    assert [c.name for c in v1.signature.inputs.columns] == ["tenure", "calls"]
    names = {r.split("==")[0] for r in v1.requirements}
    assert {"scikit-learn", "skops", "numpy", "pandas"} <= names
    assert "sqlalchemy" not in names  # only what the model needs
    assert all("==" in r for r in v1.requirements)

    loaded = client.load_model("models:/churn/1", workspace=ws)
    assert list(loaded.predict(frame[:10])) == list(model.predict(frame[:10]))
    with pytest.raises(InvalidInput, match="missing column 'calls'"):
        loaded.predict(frame[["tenure"]])

    with client.start_run("churn", workspace=ws) as run2:
        v2 = run2.log_model(Doubler(), name="churn", input_example=frame[:3])
    assert v2.version == 2 and v2.flavor == "pyfunc" and v2.digest != v1.digest
    assert [v.version for v in client.model_versions("churn", workspace=ws)] == [1, 2]
    assert (
        client.load_model("models:/churn/2", workspace=ws).predict(frame[:2]).tolist()
        == (frame["tenure"][:2] * 2).tolist()
    )
    lineage = client.lineage("model:churn/1", workspace=ws)
    assert lineage.entity.label.startswith("model churn/v1 (sklearn, dev")
    assert [(n.kind, n.id) for n in lineage.ancestors] == [("run", run.id)]
    # models:/ URIs name the same versions, as everywhere else.
    client.set_alias("churn", "champion", 1, workspace=ws)
    for uri, version in [
        ("models:/churn/1", 1),
        ("models:/churn@champion", 1),
        ("models:/dev/churn@champion", 1),
        ("models:/churn/latest", 2),
    ]:
        assert client.lineage(uri, workspace=ws).entity.label.startswith(
            f"model churn/v{version} "
        ), uri
    with pytest.raises(InvalidInput, match="entity: expected models:/"):
        client.lineage("models:/", workspace=ws)
    with pytest.raises(NotFound, match="no alias 'gone'"):
        client.lineage("models:/churn@gone", workspace=ws)


def test_a_run_using_a_version_is_its_descendant(
    client: Client, ws: str, frame: pd.DataFrame, labels: np.ndarray, unchanged: Unchanged
) -> None:
    with client.start_run("churn", workspace=ws) as trained:
        trained.log_model(_fit(frame, labels), "churn", input_example=frame[:5])
    with client.start_run("scoring", workspace=ws) as scoring:
        info = client.use_model_version("churn", 1, run_id=scoring.id, workspace=ws)
        assert info.version == 1
    lineage = client.lineage("model:churn/1", workspace=ws)
    assert [(n.kind, n.id, n.relation) for n in lineage.descendants] == [
        ("run", scoring.id, "input")
    ]
    with unchanged(), pytest.raises(NotFound):
        client.use_model_version("churn", 7, run_id=scoring.id, workspace=ws)
    with unchanged(), pytest.raises(Conflict):  # the run has ended: its inputs are settled
        client.use_model_version("churn", 1, run_id=scoring.id, workspace=ws)


def test_aliases_with_history(connector: Connector, client: Client, ws: str, frame, labels) -> None:
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(_fit(frame, labels), "churn", input_example=frame[:5])
        run.log_model(_fit(frame, labels, c=0.1), "churn", input_example=frame[:5])
    client.set_alias("churn", "champion", 1, workspace=ws, reason="baseline")
    client.set_alias("churn", "challenger", 2, workspace=ws)
    client.set_alias("churn", "champion", 2, workspace=ws, reason="better auc")
    assert client.get_model_version("models:/churn@champion", workspace=ws).version == 2
    assert client.get_model("churn", workspace=ws).aliases == {
        "dev": {"champion": 2, "challenger": 2}
    }
    client.delete_alias("churn", "challenger", workspace=ws, reason="promoted")
    history = client.alias_history("churn", workspace=ws)
    assert [(e.alias, e.from_version, e.to_version, e.reason, e.by) for e in history] == [
        ("champion", None, 1, "baseline", "admin"),
        ("challenger", None, 2, "", "admin"),
        ("champion", 1, 2, "better auc", "admin"),
        ("challenger", 2, None, "promoted", "admin"),
    ]
    assert client.alias_history("churn", alias="champion", workspace=ws)[-1].to_version == 2
    loaded = client.load_model("models:/dev/churn@champion", workspace=ws)
    assert loaded.digest == client.get_model_version("models:/churn/2", workspace=ws).digest
    audit = [e.action for e in client.audit_events(workspace=ws) if e.action.startswith("model.")]
    assert audit.count("model.alias.set") == 3 and "model.alias.delete" in audit


def test_alias_names_are_lowercase_and_a_capital_is_named(
    client: Client, ws: str, frame: pd.DataFrame, labels: np.ndarray, unchanged: Unchanged
) -> None:
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(_fit(frame, labels), "churn", input_example=frame[:5])
    with unchanged():
        with pytest.raises(
            InvalidInput, match=r"alias: must be lowercase.*'Champion'.*use 'champion'"
        ):
            client.set_alias("churn", "Champion", 1, workspace=ws)
        with pytest.raises(InvalidInput, match=r"alias: must be lowercase.*'2nd'"):
            client.set_alias("churn", "2nd", 1, workspace=ws)
    assert client.set_alias("churn", "blue-green_2", 1, workspace=ws).version == 1


def test_bad_input_stores_nothing(
    connector: Connector, client: Client, ws: str, frame, labels, unchanged
) -> None:
    model = _fit(frame, labels)
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(model, "churn", input_example=frame[:5])
        with unchanged():
            with pytest.raises(InvalidInput, match="input_example: the model cannot predict"):
                run.log_model(model, "churn", input_example=frame[["tenure"]])
            with pytest.raises(
                NotFound, match=r"version 7 of model 'churn' not found \(it has versions up to 1\)"
            ):
                client.set_alias("churn", "champion", 7, workspace=ws)
            with pytest.raises(NotFound, match="has no alias 'champion' in environment 'dev'"):
                client.load_model("models:/churn@champion", workspace=ws)
            with pytest.raises(Conflict, match="not available in environment 'prod'"):
                client.set_alias("churn", "champion", 1, workspace=ws, environment="prod")
            with pytest.raises(
                InvalidInput, match="is a sklearn model and cannot be loaded as pyfunc"
            ):
                client.load_model("models:/churn/1", workspace=ws, flavor="pyfunc")
    failed = client.start_run("churn", workspace=ws)
    failed.end("failed", error="boom")
    with unchanged(), pytest.raises(Conflict, match=r"run_id: run '\w+' failed"):
        client.log_model(model, "churn", run_id=failed.id, input_example=frame[:5])


def test_tampered_artifact_is_refused(
    connector: Connector, client: Client, ws: str, frame, labels, tmp_path: Path
) -> None:
    with client.start_run("churn", workspace=ws) as run:
        v = run.log_model(_fit(frame, labels), "churn", input_example=frame[:5])
    store = connector.platform.artifacts
    digest = v.files[0].digest
    path = Path(store.url_for(digest).removeprefix("file://"))
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupted, match=digest):
        client.load_model("models:/churn/1", workspace=ws)


def test_read_and_register_permissions(
    connector: Connector, client: Client, ws: str, frame, labels
) -> None:
    client.create_principal("vera")
    client.create_principal("eve")
    client.grant("vera", "viewer", ws, "dev")
    with client.start_run("churn", workspace=ws) as run:
        run.log_model(_fit(frame, labels), "churn", input_example=frame[:5])
    viewer = connector.as_principal("vera")
    assert viewer.load_model("models:/churn/1", workspace=ws).predict(frame[:2]).shape == (2,)
    with pytest.raises(PermissionDenied, match=r"may not model\.register"):
        viewer.set_alias("churn", "champion", 1, workspace=ws, environment="dev")
    outsider = connector.as_principal("eve")
    with pytest.raises(NotFound):
        outsider.get_model_version("models:/churn/1", workspace=ws)


def test_leaderboard_logged_and_evaluated(
    client: Client, ws: str, frame, labels, tmp_path: Path
) -> None:
    for c, auc in ((1.0, 0.7), (0.001, 0.9)):
        with client.start_run("churn", workspace=ws) as run:
            run.log_metric("auc", auc)
            run.log_model(_fit(frame, labels, c=c), "churn", input_example=frame[:5])
    logged = client.leaderboard("churn", "auc", workspace=ws)
    assert [(e.rank, e.version, e.value) for e in logged] == [(1, 2, 0.9), (2, 1, 0.7)]
    holdout = frame.assign(churned=labels)
    client.create_datastore(ws, "dev", "lake", str(tmp_path / "lake"))
    client.register_dataset("holdout", holdout, workspace=ws, environment="dev")
    fair = client.leaderboard(
        "churn", "accuracy", dataset="holdout@v1", workspace=ws, set_challenger=True
    )
    assert {e.version for e in fair} == {1, 2} and all(
        e.source.startswith("evaluated") for e in fair
    )
    assert fair[0].value >= fair[1].value
    winner = client.get_model_version("models:/churn@challenger", workspace=ws)
    assert winner.version == fair[0].version
    assert "accuracy on holdout@v1" in client.alias_history("churn", workspace=ws)[-1].reason


def test_a_leaderboard_scores_as_from_the_environment_it_ranks(
    client: Client, ws: str, frame, labels, tmp_path: Path
) -> None:
    """A prod leaderboard scores on a prod holdout, whatever environment the client declared
    (it acts from the environment it ranks, then as before)."""
    client.create_datastore(
        ws, "prod", "vault", str(tmp_path / "vault"), classification="production"
    )
    client.register_dataset(
        "holdout", frame.assign(churned=labels), workspace=ws, environment="prod"
    )
    with client.start_run("churn", workspace=ws, environment="prod") as run:
        run.log_model(_fit(frame, labels), "churn", input_example=frame[:5])
    ranked = client.leaderboard(
        "churn", "accuracy", dataset="holdout@v1", workspace=ws, environment="prod"
    )
    assert [e.version for e in ranked] == [1]
    assert client.transport.acting is None


def test_mlflow_style_call_registers_under_registered_model_name(
    client: Client, ws: str, frame, labels
) -> None:
    with client.start_run("churn", workspace=ws) as run:
        v = run.log_model(
            _fit(frame, labels), name="model", input_example=frame[:5], registered_model_name="mf"
        )
    assert (v.version, v.run_id) == (1, run.id)
    assert [m.name for m in client.list_models(workspace=ws)] == ["mf"]


def test_versions_name_the_datasets_their_runs_read_in_a_constant_number_of_queries(
    client: Client, ws: str, frame, labels, tmp_path: Path
) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    client.create_datastore(ws, "dev", "lake", str(tmp_path / "lake"))
    for name in ("customers", "calls"):
        client.register_dataset(name, frame, workspace=ws, environment="dev")
    for model, versions in (("one", 1), ("four", 4)):
        for _ in range(versions):
            with client.start_run(model, workspace=ws) as run:
                for name in ("customers", "calls"):
                    client.load_dataset(f"{name}@v1", workspace=ws, run_id=run.id)
                run.log_model(_fit(frame, labels), model, input_example=frame[:5])

    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    def queries(model: str) -> int:
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            versions = client.model_versions(model, workspace=ws)
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        assert {tuple(v.datasets) for v in versions} == {("dev/calls@v1", "dev/customers@v1")}
        return len(statements)

    # The fewest of three reads: a background write of the process (a run's heartbeat) may
    # land inside one of them.
    assert min(queries("four") for _ in range(3)) == min(queries("one") for _ in range(3))
