"""``promote``, ``approve``, ``reject`` and ``promotion list/show`` on the embedded platform:
the command that starts the promotion runs its checks, the approval continues it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Run

import modelwright

pytest.importorskip("sklearn")


def _setup(home: Path, tmp_path: Path) -> int:
    from sklearn.linear_model import LogisticRegression
    from tests.promotions.test_promotions import STAGING_GATES, frame, platform_spec

    with modelwright.connect(home) as admin:
        admin.apply(platform_spec(tmp_path / "lake", STAGING_GATES, []))
    with modelwright.connect(home, principal="alice") as alice:
        alice.register_dataset("customers", frame(), workspace="ml", environment="dev")
        data = frame()
        with alice.start_run("train", workspace="ml", environment="dev", snapshot=False) as run:
            alice.load_dataset("customers@v1", workspace="ml", environment="dev", run_id=run.id)
            run.log_metric("acc", 0.9)
            model = LogisticRegression().fit(data[["a", "b", "c"]], data["y"])
            version: int = run.log_model(
                model, "churn", input_example=data[["a", "b", "c"]]
            ).version
    return version


def test_promote_then_approve_from_the_command_line(
    cli: Run, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = _setup(home, tmp_path)
    alice = modelwright.connect(home).create_token(principal="alice").secret
    carol = modelwright.connect(home).create_token(principal="carol").secret
    monkeypatch.setenv("MODELWRIGHT_TOKEN", alice)
    asked = cli(
        "promote", f"models:/churn/{version}", "--to", "staging", "-w", "ml", "--alias", "champion"
    )
    assert asked.code == 0, asked.err
    assert "awaiting_approval" in asked.out and "modelwright approve 1" in asked.out
    assert "acc >= 0.8 (0.9)" in asked.out
    own = cli("approve", "1")
    assert own.code == 1 and "another pair of eyes" in own.err
    monkeypatch.setenv("MODELWRIGHT_TOKEN", carol)
    queue = cli("promotion", "list", "--status", "awaiting_approval")
    assert "models:/churn/1" in queue.out and "dev → staging" in queue.out
    done = cli("approve", "1", "--comment", "looks right")
    assert done.code == 0, done.err
    assert "promoted" in done.out and "looks right" in done.out
    shown = json.loads(cli("promotion", "show", "1", "--json").out)
    assert shown["status"] == "promoted"
    assert [g["status"] for g in shown["gates"]] == ["passed", "passed", "passed"]
    rejected = cli("reject", "1", "--comment", "too late")
    assert rejected.code == 1 and "takes no more decisions" in rejected.err


def test_skipping_a_stage_fails_the_command_and_says_why(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    version = _setup(home, tmp_path)
    out = cli("promote", f"models:/churn/{version}", "--to", "prod", "-w", "ml", "--from", "dev")
    assert out.code == 1
    assert "one step at a time" in out.err


def test_model_card_as_markdown_and_html_with_fields_set_from_the_command_line(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    version = _setup(home, tmp_path)
    uri = f"models:/churn/{version}"
    md = cli("model", "card", uri, "-w", "ml", "--set", "limitations=not for minors")
    assert md.code == 0, md.err
    assert f"# Model card: {uri}" in md.out and "- not for minors" in md.out
    bad = cli("model", "card", uri, "-w", "ml", "--set", "colour=red")
    assert bad.code == 2 and "intended_use, limitations, owners" in bad.err
    out = tmp_path / "cards" / "card.html"
    page = cli("model", "card", uri, "-w", "ml", "--format", "html", "-o", str(out))
    assert page.code == 0, page.err
    assert "<h2>Limitations</h2><ul><li>not for minors</li></ul>" in out.read_text()


def test_promote_across_workspaces_with_a_rollout_from_the_command_line(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    from tests.promotions.test_promotions import frame, train
    from tests.promotions.test_release import two_workspaces

    spec = two_workspaces(tmp_path / "lake")
    spec["workspaces"][1]["environments"][0]["promotion"]["gates"] = []
    with modelwright.connect(home) as admin:
        admin.apply(spec)
        admin.register_dataset("customers", frame(), workspace="ml", environment="dev")
        for _ in range(2):
            train(admin, 0.9)
    refused = cli("promote", "models:/churn/1", "--to", "prod", "--to-workspace", "ml-prod",
                  "-w", "ml")  # fmt: skip
    assert refused.code == 1 and "does not accept promotions from 'ml/dev'" in refused.err
    for v in (1, 2):
        assert cli("promote", f"models:/churn/{v}", "--to", "staging", "-w", "ml").code == 0
    crossed = cli("promote", "models:/churn/1", "--to", "prod", "--to-workspace", "ml-prod",
                  "-w", "ml")  # fmt: skip
    assert crossed.code == 0, crossed.err
    assert "ml-prod/prod" in crossed.out and "promoted" in crossed.out
    with modelwright.connect(home) as admin:
        admin.create_endpoint("churn", workspace="ml-prod", environment="prod")
        admin.deploy("churn", "v1", "churn", 1, workspace="ml-prod", environment="prod")
    no_endpoint = cli("promote", "models:/churn/2", "--to", "prod", "--to-workspace", "ml-prod",
                      "--rollout", "canary", "-w", "ml")  # fmt: skip
    assert no_endpoint.code != 0 and "--endpoint" in no_endpoint.err
    rolling = cli("promote", "models:/churn/2", "--to", "prod", "--to-workspace", "ml-prod",
                  "--rollout", "canary", "--endpoint", "churn", "--bake", "1h", "-w", "ml")  # fmt: skip
    assert rolling.code == 0, rolling.err
    assert "rolling_out" in rolling.out and "modelwright rollout status 1" in rolling.out
    assert "churn-v2" in cli("rollout", "status", "1").out
