from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from tests.cli.conftest import Run, every_command

from modelwright.cli import app, main
from modelwright.errors import NotFound
from modelwright.setup.yaml_io import load_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "platform.yaml"


def test_apply_prints_plan_then_is_idempotent(cli: Run) -> None:
    dry = cli("apply", "-f", str(EXAMPLE), "--dry-run")
    assert dry.code == 0, dry.err
    assert "+ create" in dry.out and "workspace churn" in dry.out
    assert "20 to create, 0 to update, 0 to remove" in dry.out
    # A dry run changed nothing: the same plan again.
    assert cli("apply", "-f", str(EXAMPLE), "--dry-run").out == dry.out

    first = cli("apply", "-f", str(EXAMPLE))
    assert first.code == 0, first.err
    assert "Applied. 20 created" in first.out
    second = cli("apply", "-f", str(EXAMPLE))
    assert second.code == 0
    assert "0 to create, 0 to update, 0 to remove, 20 unchanged" in second.out
    assert "Applied" not in second.out


def test_export_round_trips_through_apply(cli: Run, tmp_path: Path) -> None:
    assert cli("apply", "-f", str(EXAMPLE)).code == 0
    out = tmp_path / "exported.yaml"
    assert cli("export", "-o", str(out)).code == 0
    spec = load_spec(out.read_text())
    assert [w.name for w in spec.workspaces] == ["churn"]
    again = cli("apply", "-f", str(out), "--dry-run")
    assert again.code == 0
    assert "0 to create, 0 to update, 0 to remove" in again.out
    assert cli("export").out == out.read_text()


def test_export_keeps_an_existing_file_unless_forced_and_makes_folders(
    cli: Run, tmp_path: Path
) -> None:
    assert cli("apply", "-f", str(EXAMPLE)).code == 0
    out = tmp_path / "kept.yaml"
    out.write_text("mine\n")
    refused = cli("export", "-o", str(out))
    assert refused.code != 0
    assert "exists; pass --force to overwrite it" in refused.err
    assert out.read_text() == "mine\n"
    assert cli("export", "-o", str(out), "--force").code == 0
    assert "workspaces:" in out.read_text()
    deep = tmp_path / "a" / "b" / "platform.yaml"
    assert cli("export", "-o", str(deep)).code == 0
    assert deep.read_text() == out.read_text()
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    failed = cli("export", "-o", str(blocked / "platform.yaml"))
    assert failed.code != 0 and "cannot write" in failed.err


def test_update_and_removal_are_planned_and_need_confirmation(cli: Run, tmp_path: Path) -> None:
    assert cli("apply", "-f", str(EXAMPLE)).code == 0
    changed = EXAMPLE.read_text().replace("region: eu-west-1", "region: eu-central-1", 1)
    changed = changed.replace(
        "      - {principal: ci-bot, role: ml-engineer, environments: [dev, staging]}\n", ""
    )
    f = tmp_path / "changed.yaml"
    f.write_text(changed)
    plan = cli("apply", "-f", str(f), "--dry-run")
    assert "~ update" in plan.out and "region: 'eu-west-1' → 'eu-central-1'" in plan.out
    assert "- remove" in plan.out and "ci-bot:ml-engineer@churn/dev" in plan.out
    refused = cli("apply", "-f", str(f))  # no terminal, no --yes
    assert refused.code == 1
    assert "pass --yes" in refused.err
    assert cli("apply", "-f", str(EXAMPLE), "--dry-run").out.count("+ create") == 0
    done = cli("apply", "-f", str(f), "--yes")
    assert done.code == 0, done.err
    assert "1 updated, 2 removed" in done.out


def test_invalid_yaml_is_one_line_with_line_and_column(cli: Run, tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("workspaces:\n  - name: a\n    environments: [\n")
    r = cli("apply", "-f", str(f))
    assert r.code == 1
    assert r.err.count("\n") == 1
    assert f"{f}:4:1: invalid YAML" in r.err
    assert "Traceback" not in r.err


def test_invalid_field_names_the_field_and_location(cli: Run, tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("workspaces:\n  - name: ok\n  - name: ../x\n")
    r = cli("apply", "-f", str(f))
    assert r.code == 1
    assert f"{f}:3:11: workspaces[1].name:" in r.err
    assert cli("workspace", "list", "--json").out.strip() == "[]"


def test_usage_errors_are_reported_by_the_parser(cli: Run) -> None:
    r = cli("workspace", "show")
    assert r.code == 2
    assert "Missing argument 'name'" in r.err
    assert r.err.startswith("Usage: modelwright workspace show")
    assert "Traceback" not in r.err


def test_missing_file_is_a_clear_error(cli: Run, tmp_path: Path) -> None:
    r = cli("apply", "-f", str(tmp_path / "nope.yaml"))
    assert r.code == 1
    assert "file: " in r.err and "does not exist" in r.err


def test_errors_are_one_line_unless_debug(cli: Run) -> None:
    r = cli("workspace", "show", "nope")
    assert r.code == 1
    assert r.err.strip() == "error (not_found): workspace 'nope' not found (you can see: none)"
    with pytest.raises(NotFound, match="workspace 'nope' not found"):
        main(["--debug", "workspace", "show", "nope"])


def test_workspace_and_datastore_commands(cli: Run, home: Path) -> None:
    assert cli("workspace", "create", "fraud", "--environments", "dev,prod").code == 0
    shown = cli("workspace", "show", "fraud", "--json")
    info = json.loads(shown.out)
    assert [(e["name"], e["production"]) for e in info["environments"]] == [
        ("dev", False),
        ("prod", True),
    ]
    refused = cli(
        "datastore",
        "create",
        "fraud",
        "dev",
        "lake",
        f"{home}/data/x",
        "--classification",
        "production",
    )
    assert refused.code == 1
    assert "cannot be attached to non-production environment 'dev'" in refused.err
    ok = cli(
        "datastore",
        "create",
        "fraud",
        "prod",
        "lake",
        f"{home}/data/x",
        "--classification",
        "production",
    )
    assert ok.code == 0, ok.err
    # Outside the roots the platform allows (by default <home>/data), a datastore is refused.
    outside = cli("datastore", "create", "fraud", "prod", "far", "/tmp/x")
    assert outside.code == 1
    assert "outside the datastore roots this platform allows" in outside.err
    assert "lake" in cli("workspace", "show", "fraud").out
    dup = cli("workspace", "create", "fraud")
    assert dup.code == 1 and "already exists" in dup.err


def test_access_check_exit_codes(cli: Run) -> None:
    assert cli("apply", "-f", str(EXAMPLE)).code == 0
    denied = cli(
        "access", "check", "data.read", "-w", "churn", "-e", "prod", "--principal", "alice"
    )
    assert denied.code == 3 and "denied" in denied.out
    allowed = cli(
        "access", "check", "data.read", "-w", "churn", "-e", "dev", "--principal", "alice"
    )
    assert allowed.code == 0 and "role 'data-scientist' granted in churn/dev" in allowed.out
    unknown = cli("access", "check", "fly", "-w", "churn")
    assert unknown.code == 1 and "action" in unknown.err


def test_grant_add_and_remove_say_what_changed(cli: Run) -> None:
    assert cli("workspace", "create", "fraud", "--environments", "dev,prod").code == 0
    assert cli("principal", "create", "dana").code == 0
    added = cli("grant", "add", "dana", "viewer", "-w", "fraud", "-e", "dev")
    assert added.out.strip() == "granted viewer to dana in fraud/dev"
    grants = json.loads(cli("grant", "list", "--principal", "dana", "--json").out)
    assert [(g["role"], g["workspace"], g["environment"]) for g in grants] == [
        ("viewer", "fraud", "dev")
    ]
    removed = cli("grant", "remove", "dana", "viewer", "-w", "fraud", "-e", "dev")
    assert removed.out.strip() == "removed viewer from dana in fraud/dev"
    assert json.loads(cli("grant", "list", "--principal", "dana", "--json").out) == []


def test_tokens_and_audit(cli: Run) -> None:
    assert cli("principal", "create", "dana").code == 0
    created = json.loads(
        cli("token", "create", "--principal", "dana", "--expires", "2h", "--json").out
    )
    assert created["secret"].startswith("mwt_")
    listed = json.loads(cli("token", "list", "--json").out)
    assert [t["id"] for t in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert cli("token", "revoke", str(created["id"])).code == 0
    events = json.loads(cli("audit", "--action", "token.*", "--json").out)
    assert [e["action"] for e in events] == ["token.revoke", "token.create"]
    assert json.loads(cli("audit", "--since", "1h", "--principal", "nobody", "--json").out) == []
    bad = cli("audit", "--since", "yesterday")
    assert bad.code == 1 and "--since: expected an ISO 8601 time" in bad.err
    table = cli("audit", "--principal", "admin")
    assert "principal.create" in table.out and "principal/dana" in table.out


def test_cli_talks_to_a_server(cli: Run, home: Path) -> None:
    from tests.conftest import LiveServer

    from modelwright.core.platform import Platform
    from modelwright.settings import Settings

    assert cli("apply", "-f", str(EXAMPLE)).code == 0
    secret = json.loads(cli("token", "create", "--principal", "alice", "--json").out)["secret"]
    platform = Platform(Settings(home=home))
    try:
        with LiveServer(platform) as server:
            me = cli("--url", server.url, "--token", secret, "whoami", "--json")
            assert me.code == 0, me.err
            assert json.loads(me.out)["principal"] == "alice"
            denied = cli("--url", server.url, "--token", secret, "principal", "create", "eve")
            assert denied.code == 1 and "permission_denied" in denied.err
            bad = cli("--url", server.url, "--token", "mwt_nope", "whoami")
            assert bad.code == 1 and "error (unauthenticated): malformed token" in bad.err
    finally:
        platform.close()


def test_every_command_has_help_and_every_option_is_described(cli: Run) -> None:
    root = typer.main.get_command(app)
    commands = every_command(root)
    assert len(commands) > 20
    for path, cmd in [((), root), *commands]:
        assert cmd.help, f"'modelwright {' '.join(path)}' has no help text"
        for param in cmd.params:
            if param.param_type_name == "option":
                assert param.help, f"option {param.opts} of {' '.join(path)} has no help"
        r = cli(*path, "--help")
        assert r.code == 0, (path, r.err)
        # A flag takes no value, so its help shows no type beside it.
        assert "<bool>" not in r.out and "BOOLEAN" not in r.out, (path, r.out)


def test_importing_the_entry_point_does_not_import_the_commands() -> None:
    # Processes spawned from the command re-import its module, which imports ``main``.
    code = "import sys, modelwright.cli; print('typer' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_runs_kill_marks_a_run_killed(cli: Run, home: Path) -> None:
    import modelwright

    with modelwright.connect(home) as client:
        client.create_workspace("ml")
        run = client.start_run("x", workspace="ml")  # its process "dies": never ended
        done = cli("runs", "kill", run.id)
        assert done.code == 0, done.err
        assert f"run {run.id} killed" in done.out
        assert client.get_run(run.id).status == "killed"
        again = cli("runs", "kill", run.id, "--json")
        assert json.loads(again.out)["status"] == "killed"
        finished = client.start_run("x", workspace="ml")
        finished.end()
        refused = cli("runs", "kill", finished.id)
        assert refused.code != 0
        assert "already ended as finished" in refused.err
        run._logger.close()  # the test's own: nothing was logged


def test_workspace_default_makes_the_default_workspace_once(cli: Run, home: Path) -> None:
    r = cli("workspace", "default")
    assert r.code == 0, r.err
    assert "Workspace default" in r.out and "prod" in r.out
    r = cli("workspace", "default", "--json")
    info = json.loads(r.out)
    assert info["environments"][0]["datastores"][0]["url"] == str(
        home.resolve() / "data" / "default" / "dev"
    )


def test_the_cli_reads_the_client_variables_through_the_client_settings(
    cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("apply", "-f", str(EXAMPLE)).code == 0
    monkeypatch.setenv("MODELWRIGHT_WORKSPACE", "churn")
    listed = cli("datasets", "list", "--json")
    assert listed.code == 0, listed.err  # the workspace came from the variable
    monkeypatch.setenv("MODELWRIGHT_WORKSPACE", "nowhere")
    assert cli("datasets", "list").code != 0
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "soon")
    bad = cli("runs", "list", "-w", "churn")
    assert bad.code != 0
    assert "MODELWRIGHT_FLUSH_INTERVAL" in bad.err and "Traceback" not in bad.err
