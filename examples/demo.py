"""The main job: the platform's lifecycle on the embedded default (SQLite + local files).

Run with ``make demo``. Each step prints the command a user would type, then its output.
Today it covers stage 1 (setup as code, access control, tokens, the REST server, audit).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("MODELWRIGHT_HOME", ".modelwright-demo"))
CLI = [str(Path(sys.executable).parent / "modelwright")]
if shutil.which(CLI[0]) is None:
    CLI = [sys.executable, "-m", "modelwright"]


def step(title: str) -> None:
    print(f"\n\033[1;36m== {title}\033[0m", flush=True)


def run(*args: str, expect: int = 0, env: dict[str, str] | None = None, quiet: bool = False) -> str:
    shown = " ".join(repr(a) if " " in a else a for a in args)
    print(f"\033[1m$ modelwright {shown}\033[0m", flush=True)
    proc = subprocess.run(
        [*CLI, *args],
        cwd=ROOT,
        env={**os.environ, "MODELWRIGHT_HOME": str(HOME), "COLUMNS": "120", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if not quiet:
        print(proc.stdout, end="")
    print(proc.stderr, end="", file=sys.stderr)
    if proc.returncode != expect:
        raise SystemExit(f"demo: expected exit {expect}, got {proc.returncode}")
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def track() -> None:
    """Train in-process through the SDK, as a data scientist would in a notebook."""
    sys.path.insert(0, str(ROOT / "examples"))
    import churn

    import modelwright as mw

    mw.set_platform(HOME)
    customers = churn.make_customers()
    print(f"training on {len(customers)} synthetic customers in churn/dev ...")
    for lr in (0.02, 0.2, 0.8):
        with mw.start_run(
            "churn-model", workspace="churn", environment="dev", name=f"lr={lr}"
        ) as active:
            active.log_params({"lr": lr, "epochs": 40, "l2": 0.01})
            auc = churn.train(customers, lr=lr, epochs=40, l2=0.01, run=active)
        print(f"  run {active.id[:12]}  lr={lr:<5} val_auc={auc:.3f}")
    mw.get_client().close()
    run("runs", "list", "-w", "churn", "-o", "metrics.val_auc DESC")
    best = json.loads(
        run(
            "runs",
            "list",
            "metrics.val_auc > 0.8",
            "-w",
            "churn",
            "-o",
            "metrics.val_auc DESC",
            "--json",
            quiet=True,
        )
    )
    ids = [r["id"] for r in best[:2]]
    run("runs", "compare", *ids)
    run("lineage", f"run:{ids[0]}", "-w", "churn")


def main() -> None:
    spec = "examples/platform.yaml"

    step("1. Setup as code: plan, apply, and apply again (idempotent)")
    run("apply", "-f", spec, "--dry-run")
    run("apply", "-f", spec)
    again = run("apply", "-f", spec)
    assert "0 to create, 0 to update, 0 to remove" in again, "second apply must change nothing"

    step("2. The workspace: dev → staging → prod, each with its own datastore")
    run("workspace", "show", "churn")
    run("grant", "list", "--workspace", "churn")

    step("3. Rules hold: production data is never reachable from dev")
    run(
        "datastore",
        "create",
        "churn",
        "dev",
        "prod-copy",
        "./.modelwright-demo/data/x",
        "--classification",
        "production",
        expect=1,
    )
    run(
        "access",
        "check",
        "data.read",
        "-w",
        "churn",
        "-e",
        "prod",
        "--principal",
        "alice",
        expect=3,
    )
    run("access", "check", "data.read", "-w", "churn", "-e", "dev", "--principal", "alice")

    step("4. One interface, two backends: the REST server with a token")
    token = run(
        "token",
        "create",
        "--principal",
        "alice",
        "--name",
        "demo",
        "--expires",
        "1d",
        "--json",
        quiet=True,
    )
    print("(a token for alice: shown once, stored only as a hash)")
    secret = json.loads(token)["secret"]
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "server", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env={**os.environ, "MODELWRIGHT_HOME": str(HOME)},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("demo: the server did not start")
            time.sleep(0.2)
        remote = {"MODELWRIGHT_URL": url, "MODELWRIGHT_TOKEN": secret}
        run("whoami", env=remote)
        run("workspace", "list", env=remote)
        run("principal", "create", "mallory", env=remote, expect=1)
        print(
            f"OpenAPI: {url}/docs  ·  {len(httpx.get(f'{url}/openapi.json').json()['paths'])} paths"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)

    step("5. Experiment tracking: three runs of the churn model, searched and compared")
    track()

    step("6. The audit trail: every change, who made it and when")
    run("audit", "--limit", "8")

    step("7. Export: the live state as a platform.yaml that apply accepts")
    run("export", "-o", str(HOME / "exported.yaml"))
    run("apply", "-f", str(HOME / "exported.yaml"), "--dry-run")
    print("\ndemo: done")


if __name__ == "__main__":
    main()
