"""``--json`` on every command that has something to say, and what it prints."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer.main
from tests.cli.conftest import Run, every_command

import modelwright
from modelwright.cli import app
from modelwright.workflows import workflow_kinds

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Commands that serve until stopped: they have no result to print, as JSON or otherwise.
NO_JSON = {
    ("server",): "serves the REST API until stopped; it logs, it returns nothing",
    ("serve",): "serves an environment's endpoints until stopped; it logs, it returns nothing",
    ("ui",): "serves the web UI until stopped; it logs, it returns nothing",
}


def test_every_command_takes_json_but_those_that_serve_until_stopped() -> None:
    root = typer.main.get_command(app)
    commands = [(path, cmd) for path, cmd in every_command(root) if not hasattr(cmd, "commands")]
    assert len(commands) > 90
    missing = [
        " ".join(path)
        for path, cmd in commands
        if path not in NO_JSON and not any("--json" in p.opts for p in cmd.params)
    ]
    assert missing == []
    assert set(NO_JSON) <= {path for path, _ in commands}  # no stale exception


def test_metric_options_list_the_metrics() -> None:
    from modelwright.monitors.alert_models import METRICS as MONITOR_METRICS
    from modelwright.registry.leaderboard import METRICS

    root = typer.main.get_command(app)
    commands = dict(every_command(root))

    def help_of(path: tuple[str, ...], option: str) -> str:
        [param] = [p for p in commands[path].params if option in p.opts]
        return str(param.help)

    ranked = help_of(("model", "leaderboard"), "--metric")
    assert all(name in ranked for name in METRICS) and "package.module:function" in ranked
    watched = help_of(("monitor", "history"), "--metric")
    assert all(m in watched for names in MONITOR_METRICS.values() for m in names)
    condition = help_of(("monitor", "alert", "add"), "--when")
    assert "unseen_share" in condition and "throughput" in condition


def test_platform_commands_print_what_they_did_as_json(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    def ok(*args: str) -> object:
        r = cli(*args, "--json")
        assert r.code == 0, (args, r.err)
        return json.loads(r.out)

    made = ok("workspace", "create", "ml", "--environments", "dev,prod")
    assert [e["name"] for e in made["environments"]] == ["dev", "prod"]
    added = ok("workspace", "add-env", "ml", "qa")
    assert [e["name"] for e in added["environments"]] == ["dev", "prod", "qa"]
    store = ok("datastore", "create", "ml", "dev", "lake", str(tmp_path / "lake"))
    assert (store["name"], store["url"]) == ("lake", str(tmp_path / "lake"))
    assert ok("datastore", "delete", "ml", "dev", "lake")["name"] == "lake"
    assert ok("principal", "create", "bob", "--email", "bob@example.com")["kind"] == "user"
    role = ok("role", "create", "reader", "--actions", "data.read")
    assert role["actions"] == ["data.read"]
    grant = ok("grant", "add", "bob", "reader", "-w", "ml", "-e", "dev")
    assert (grant["principal"], grant["role"], grant["environment"]) == ("bob", "reader", "dev")
    assert ok("grant", "remove", "bob", "reader", "-w", "ml", "-e", "dev")["role"] == "reader"
    token = ok("token", "create", "--principal", "bob")
    revoked = ok("token", "revoke", str(token["id"]))
    assert revoked["id"] == token["id"] and revoked["revoked_at"] is not None
    assert ok("principal", "delete", "bob")["name"] == "bob"
    # One page of a list: the rows and the token of the next page.
    page = ok("workspace", "list", "--limit", "1")
    assert len(page["items"]) == 1 and page["next_page_token"] is None

    # The platform as JSON, which apply reads as it reads YAML.
    spec = ok("export")
    assert [w["name"] for w in spec["workspaces"]] == ["ml"]
    out = tmp_path / "platform.json"
    assert ok("export", "-o", str(out)) == {"wrote": str(out)}
    assert json.loads(out.read_text()) == spec
    plan = ok("apply", "-f", str(out), "--dry-run")
    assert {c["action"] for c in plan["changes"]} == {"unchanged"}

    assert ok("workspace", "delete", "ml", "--yes")["name"] == "ml"
    worked = ok("worker", "--once")
    assert worked == {"ran": 0, "workflows": workflow_kinds()} and worked["workflows"]


def test_model_and_endpoint_changes_print_json(cli: Run, home: Path, tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from tests.endpoints.conftest import register_churn

    with modelwright.connect(home) as client:
        register_churn(client)
    moved = json.loads(cli("model", "alias", "set", "churn", "champion", "2", "--json").out)
    assert (moved["version"], moved["aliases"]) == (2, {"dev": ["champion"]})
    removed = json.loads(cli("model", "alias", "delete", "churn", "champion", "--json").out)
    assert (removed["alias"], removed["from_version"], removed["to_version"]) == (
        "champion",
        2,
        None,
    )
    out = tmp_path / "pkg"
    packaged = json.loads(cli("model", "package", "models:/churn/1", "-o", str(out), "--json").out)
    assert packaged["out"] == str(out) and "Dockerfile" in packaged["files"]
    assert cli("endpoint", "create", "churn", "--env", "dev").code == 0
    deleted = cli("endpoint", "delete", "churn", "--env", "dev", "--json")
    assert deleted.code == 0, deleted.err
    assert (json.loads(deleted.out)["name"], json.loads(deleted.out)["environment"]) == (
        "churn",
        "dev",
    )


def test_pipeline_show_and_run_print_json(cli: Run, tmp_path: Path) -> None:
    project = tmp_path / "churn"
    shutil.copytree(EXAMPLES / "churn_pipeline", project)
    shown = cli("pipeline", "show", "train", "-p", str(project), "--json")
    assert shown.code == 0, shown.err
    dag = json.loads(shown.out)
    nodes = {n["name"]: n for n in dag["nodes"]}
    assert dag["name"] == "train" and nodes["make_customers"]["after"] == []
    assert all(set(n["after"]) <= set(nodes) for n in nodes.values())

    run = ["pipeline", "run", "train", "-p", str(project), "--env", "dev", "--json"]
    first = cli(*run)
    assert first.code == 0, first.err
    # Only the result: no progress lines among it.
    ran = json.loads(first.out)
    assert ran["failed"] is None and {n["node"] for n in ran["nodes"]} == set(nodes)
    assert {n["status"] for n in ran["nodes"]} == {"ran"}
    again = json.loads(cli(*run).out)
    assert again["run_id"] != ran["run_id"]
    assert {n["status"] for n in again["nodes"]} == {"cached"}
