"""The smoke gate: the version served on a temporary port by the deployment worker's code,
rows replayed over HTTP, answers compared with offline predictions, the server torn down;
over both backends and both databases."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector
from tests.promotions.test_promotions import frame, platform_spec, settle, train

from modelwright.client import Client
from modelwright.errors import InvalidInput
from modelwright.setup.yaml_io import dump_spec, load_spec

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]


def _servers(digest: str) -> list[int]:
    """Model server processes still running for the version with this digest."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue  # ended meanwhile
        if "modelwright.serving.worker" in cmdline and digest in cmdline:
            pids.append(int(proc.name))
    return pids


def _team(connector: Connector, tmp_path: Path, gates: list[dict[str, Any]]) -> Client:
    connector.local_admin.apply(platform_spec(tmp_path / "lake", gates, []))
    alice = connector.as_principal("alice")
    alice.register_dataset("customers", frame(), workspace="ml", environment="dev")
    return alice


def _flaky() -> Callable[[pd.DataFrame], Any]:
    """A function model that fails on large ``a`` and answers noise elsewhere: no served
    answer can equal an offline one. Defined here so that it is pickled by value."""

    def predict(x: pd.DataFrame) -> Any:
        if (x["a"] > 1.0).any():
            raise RuntimeError("a is out of range")
        return np.random.default_rng().random(len(x))

    return predict


def test_a_smoke_gate_replays_the_targets_holdout_against_the_served_version(
    connector: Connector, tmp_path: Path
) -> None:
    gates = [
        {"kind": "smoke", "dataset": "holdout@v1", "rows": 40, "p99_ms": 5000},
        {"kind": "metric", "require": ["acc >= 0.8"]},
        {
            "kind": "evaluation",
            "dataset": "holdout@v1",
            "label": "y",
            "require": ["accuracy >= 0.9"],
        },
    ]
    alice = _team(connector, tmp_path, gates)
    # Read as from staging, where the holdout lives; the label column is not sent.
    alice.register_dataset(
        "holdout", frame().sample(60, random_state=2), workspace="ml", environment="staging"
    )
    version = train(alice, 0.9)
    p = settle(
        connector,
        alice,
        alice.promote(
            f"models:/churn/{version}", "staging", alias="champion", workspace="ml", wait=False
        ),
    )
    assert p.status == "promoted", p.outcome
    assert [g.status for g in p.gates] == ["passed", "passed", "passed"]
    smoke = p.gates[0]
    assert smoke.kind == "smoke"
    assert smoke.summary.startswith("40 rows: all 2xx, p99 ")
    assert smoke.summary.endswith("≤ 5000.0 ms, answers equal offline predictions")
    ev = smoke.evidence
    assert (ev["rows"], ev["statuses"], ev["mismatches"]) == (40, {"200": 40}, 0)
    assert ev["source"] == "dataset holdout@v1 of 'staging'"
    assert ev["served"] == f"models:/churn/{version} as loaded from 'dev' by 'alice'"
    assert 0 < ev["p50_ms"] <= ev["p99_ms"] <= ev["max_ms"] <= 5000
    assert ev["startup_s"] > 0 and ev["replay_s"] > 0 and ev["teardown_s"] > 0
    assert ev["total_s"] > ev["startup_s"]
    assert ev["p99_bound_ms"] == 5000
    job = alice.get_job(p.job_id or 0)
    # Judged after the checks and the re-scoring, whatever its place in the list.
    assert [s.name for s in job.steps] == ["gates", "evaluate", "smoke", "rollout", "promote"]
    digest = alice.get_model_version(f"models:/churn/{version}", workspace="ml").digest
    assert _servers(digest) == []


def test_a_version_that_errs_differs_or_is_slow_fails_the_smoke_gate(
    connector: Connector, tmp_path: Path
) -> None:
    gates = [{"kind": "smoke", "dataset": "holdout@v1", "rows": 30, "p99_ms": 0.001}]
    alice = _team(connector, tmp_path, gates)
    holdout = frame().head(30)
    alice.register_dataset("holdout", holdout, workspace="ml", environment="staging")
    x = holdout[["a", "b", "c"]]
    with alice.start_run("flaky", workspace="ml", environment="dev", snapshot=False) as run:
        version = run.log_model(
            _flaky(), "churn", input_example=x[x["a"] <= 1.0].head(3), flavor="pyfunc"
        ).version
    p = settle(
        connector,
        alice,
        alice.promote(f"models:/churn/{version}", "staging", workspace="ml", wait=False),
    )
    assert p.status == "failed"
    smoke = p.gates[0]
    assert smoke.status == "failed"
    ev = smoke.evidence
    bad = int((holdout["a"] > 1.0).sum())
    assert 0 < bad < 30
    assert ev["statuses"] == {"200": 30 - bad, "500": bad}
    first_bad = int(np.flatnonzero(holdout["a"].to_numpy() > 1.0)[0])
    assert ev["failure_examples"][0]["row"] == first_bad
    assert "a is out of range" in ev["failure_examples"][0]["message"]
    assert ev["mismatches"] == 30 - bad
    assert len(ev["mismatch_examples"]) == 5
    assert isinstance(ev["mismatch_examples"][0]["served"], float)
    assert f"{bad} of 30 requests had no 2xx answer ({bad} × 500; row {first_bad}:" in p.outcome
    assert "> 0.001 ms" in p.outcome
    assert f"{30 - bad} answer(s) differ from the offline predictions" in p.outcome
    # Nothing else changed, and no server is left behind.
    info = alice.get_model_version(f"models:/churn/{version}", workspace="ml")
    assert info.available_in == ["dev"]
    assert _servers(info.digest) == []


def test_without_a_dataset_the_input_example_is_replayed(
    connector: Connector, tmp_path: Path
) -> None:
    alice = _team(connector, tmp_path, [{"kind": "smoke"}])
    version = train(alice, 0.9)  # logged with the first 5 rows as its input example
    example = alice.load_model(f"models:/churn/{version}", workspace="ml").manifest.input_example
    assert example is not None
    assert example["dataframe_split"]["columns"] == ["a", "b", "c"]
    assert example["dataframe_split"]["data"] == frame()[["a", "b", "c"]].head().values.tolist()
    p = settle(
        connector,
        alice,
        alice.promote(f"models:/churn/{version}", "staging", workspace="ml", wait=False),
    )
    assert p.status == "promoted", p.outcome
    ev = p.gates[0].evidence
    assert (ev["rows"], ev["rows_asked"], ev["statuses"]) == (5, 100, {"200": 5})
    assert ev["source"] == f"input example of models:/churn/{version}"
    assert p.gates[0].summary.startswith("5 rows: all 2xx")


def test_a_version_without_rows_to_replay_fails_with_what_to_set(
    connector: Connector, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    alice = _team(connector, tmp_path, [{"kind": "smoke", "rows": 10}])
    data = frame()
    with alice.start_run("bare", workspace="ml", environment="dev", snapshot=False) as run:
        model = LogisticRegression().fit(data[["a", "b", "c"]], data["y"])
        version = run.log_model(model, "churn").version  # no input example
    p = settle(
        connector,
        alice,
        alice.promote(f"models:/churn/{version}", "staging", workspace="ml", wait=False),
    )
    assert p.status == "failed"
    assert p.outcome == (
        f"smoke: models:/churn/{version} was registered without an input example, so there "
        "are no rows to replay: set the smoke gate's dataset (a dataset version of the target)"
    )
    assert p.gates[0].evidence["rows"] == 0
    # A dataset that the target does not hold fails the gate too, saying so.
    connector.local_admin.apply(
        platform_spec(tmp_path / "lake", [{"kind": "smoke", "dataset": "holdout@v3"}], [])
    )
    p = settle(
        connector,
        alice,
        alice.promote(f"models:/churn/{version}", "staging", workspace="ml", wait=False),
    )
    assert p.status == "failed"
    assert "holdout" in p.outcome and "not found" in p.outcome, p.outcome


BAD_GATES = [
    ({"kind": "smoke", "rows": 0}, r"smoke\.rows: Input should be greater than or equal to 1"),
    ({"kind": "smoke", "rows": 10_001}, r"smoke\.rows: Input should be less than or equal"),
    ({"kind": "smoke", "p99_ms": 0}, r"smoke\.p99_ms: Input should be greater than 0"),
    (
        {"kind": "smoke", "dataset": "holdout"},
        r"smoke\.dataset: 'holdout' is not a dataset version: write <name>@v<N>",
    ),
    ({"kind": "smoke", "row": 5}, r"smoke\.row: Extra inputs are not permitted"),
]


def test_a_bad_smoke_gate_is_refused_and_a_good_one_round_trips(
    client: Client, tmp_path: Path, unchanged: Unchanged
) -> None:
    for gate, message in BAD_GATES:
        with unchanged(), pytest.raises(InvalidInput, match=message):
            client.apply(platform_spec(tmp_path / "lake", [gate], []))
    with pytest.raises(InvalidInput, match="is not a dataset version"):
        load_spec(
            "workspaces:\n  - name: ml\n    environments:\n      - name: dev\n"
            "      - name: staging\n        promotion:\n          gates:\n"
            "            - {kind: smoke, dataset: latest}\n"
        )

    good = {"kind": "smoke", "dataset": "holdout@v2", "rows": 50, "p99_ms": 250}
    client.apply(platform_spec(tmp_path / "lake", [good], []))
    exported = client.export()
    text = dump_spec(exported)
    assert "kind: smoke" in text and "dataset: holdout@v2" in text
    assert load_spec(text) == exported
    assert client.apply(exported, dry_run=True).has_changes is False


def test_answers_compare_exactly_for_labels_and_closely_for_floats() -> None:
    from modelwright.serving.smoke import same_answer

    assert same_answer(1, 1) and same_answer("yes", "yes") and same_answer(True, True)
    assert not same_answer(1, "1") and not same_answer(1, True) and not same_answer(0, 1)
    assert same_answer(0.1 + 0.2, 0.3) and same_answer(1e-300, 0.0)
    assert not same_answer(0.5, 0.5 + 1e-6) and not same_answer(0.5, None)
    assert same_answer(float("nan"), float("nan")) and not same_answer(float("nan"), 0.0)
    assert same_answer([0.1, {"p": 2}], [0.1, {"p": 2}])
    assert not same_answer([0.1], [0.1, 0.2]) and not same_answer({"p": 1}, {"q": 1})
