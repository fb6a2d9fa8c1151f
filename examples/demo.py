"""The main job: the platform's lifecycle on the embedded default (SQLite + local files).

Run with ``make demo``. Each step prints the command a user would type, then its output.
Today it covers stage 1 (setup as code, access control, tokens, the REST server, audit).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


ROW = '{"dataframe_records": [{"tenure_months": 3, "monthly_charges": 95.5, '
ROW += '"support_calls": 4, "contract_years": 0}]}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def isolation(more: object) -> None:
    """Production data never reaches dev: not through a run, not as re-registered bytes; an
    audited copy is the one way out."""
    import churn

    import modelwright as mw

    mw.register_dataset("customers", more, workspace="churn", environment="prod")
    with mw.start_run("probe", workspace="churn", environment="dev") as probe:
        try:
            mw.load_dataset("prod/customers@v1")
        except mw.PermissionDenied as refused:
            print(f"a dev run reading prod data is refused: {refused.message}")
        probe.set_tag("purpose", "isolation check")
    # Production bytes cannot be registered outside production; an audited copy can.
    eu = churn.make_customers(n=500, seed=9)
    mw.register_dataset("customers-eu", eu, workspace="churn", environment="prod")
    try:
        mw.register_dataset("customers-eu", eu, workspace="churn", environment="dev")
    except mw.PermissionDenied as refused:
        print(f"production bytes registered in dev are refused: {refused.message}")
    run(
        "datasets",
        "copy",
        "prod/customers-eu@v1",
        "--to",
        "dev",
        "-w",
        "churn",
        "--reason",
        "sample for integration tests",
    )


def lifecycle() -> None:
    """Data, training, registry: in-process through the SDK, as in a notebook."""
    sys.path.insert(0, str(ROOT / "examples"))
    import churn

    import modelwright as mw

    mw.set_platform(HOME)
    customers = churn.make_customers()
    v1 = mw.register_dataset("customers", customers, workspace="churn", environment="dev")
    more = churn.make_customers(n=3_000, seed=8)
    v2 = mw.register_dataset("customers", more, workspace="churn", environment="dev")
    # Staging's own holdout: the champion and smoke gates score and replay on it.
    holdout = churn.make_customers(n=600, seed=21)
    mw.register_dataset("holdout", holdout, workspace="churn", environment="staging")
    print(
        f"registered customers@v{v1.version} and @v{v2.version} in churn/dev (sha256 {v2.digest[:12]})"
    )
    run("datasets", "show", "customers@v2", "-w", "churn", "-e", "dev")
    run("datasets", "diff", "customers@v1", "@v2", "-w", "churn", "-e", "dev")
    isolation(more)

    step("6. Experiment tracking: three tracked runs, each registering a model version")
    for lr in (0.001, 0.01, 0.1):
        with mw.start_run(
            "churn-model", workspace="churn", environment="dev", name=f"lr={lr}"
        ) as active:
            data = mw.load_dataset("customers@v2")  # recorded as the run's input
            active.log_params({"lr": lr, "epochs": 20, "l2": 0.001})
            model, auc = churn.train(data, lr=lr, epochs=20, l2=0.001, run=active)
            version = active.log_model(model, "churn", input_example=data[churn.FEATURES].head(5))
        print(
            f"  run {active.id[:12]}  lr={lr:<6} val_auc={auc:.3f}  -> models:/churn/{version.version}"
        )
    mw.get_client().close()
    run("runs", "list", "-w", "churn", "-o", "metrics.val_auc DESC")
    best = json.loads(
        run("runs", "list", "-w", "churn", "-o", "metrics.val_auc DESC", "--json", quiet=True)
    )
    run("runs", "compare", best[0]["id"], best[-1]["id"])
    run("lineage", "dataset:dev/customers@v2", "-w", "churn")

    step("7. Registry: a fair leaderboard on one holdout, aliases with history, a package")
    run("model", "leaderboard", "churn", "--metric", "val_auc", "-w", "churn", "-e", "dev")
    run(
        "model",
        "leaderboard",
        "churn",
        "--metric",
        "roc_auc",
        "--dataset",
        "customers@v1",
        "--label",
        "churned",
        "--set-challenger",
        "-w",
        "churn",
        "-e",
        "dev",
    )
    run("model", "alias", "history", "churn", "-w", "churn", "-e", "dev")
    run("model", "show", "models:/churn@challenger", "-w", "churn", "-e", "dev")
    out = HOME / "package"
    run(
        "model",
        "package",
        "models:/churn@challenger",
        "--out",
        str(out),
        "--kubernetes",
        "-w",
        "churn",
        "-e",
        "dev",
    )
    print("  " + "  ".join(sorted(p.name for p in out.iterdir())))

    step("8. Pipelines: run, re-run fully cached with the reasons, then submitted to a worker")
    project = "examples/churn_pipeline"
    run("pipeline", "show", "train", "--project", project)
    run("pipeline", "run", "train", "--env", "dev", "--project", project, "-w", "churn")
    run(
        "pipeline", "run", "train", "--env", "dev", "--project", project, "-w", "churn", "--explain"
    )
    # Submitted as a job: a snapshot of the project, queued for the platform's workers.
    scope = ["--env", "dev", "-w", "churn"]
    run("pipeline", "run", "train", "--project", project, *scope, "--submit", "--detach")
    run("worker", "--once")  # a worker (here: run once) takes the job and runs it as its submitter
    run("jobs", "list", "-w", "churn")


def wait_for(url: str, ready: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            health: dict[str, Any] = httpx.get(url, timeout=5).json()
            if ready(health):
                return health
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"demo: {what} did not start")


def serving() -> None:
    """Real-time endpoints: a traffic split and a shadow behind one router."""
    scope = ["-w", "churn", "-e", "dev"]
    run("endpoint", "create", "churn", *scope, "--description", "Churn scores for the CRM")
    run("endpoint", "deploy", "churn", "blue", "models:/churn@challenger", *scope, quiet=True)
    run(
        "endpoint",
        "deploy",
        "churn",
        "green",
        "models:/churn/3",
        "--workers",
        "2",
        *scope,
        quiet=True,
    )
    run("endpoint", "traffic", "churn", "blue=80", "green=20", *scope, quiet=True)
    run("endpoint", "deploy", "churn", "candidate", "models:/churn/2", *scope, quiet=True)
    run("endpoint", "shadow", "churn", "candidate", "--percent", "100", *scope)
    port = free_port()
    router = f"http://127.0.0.1:{port}"
    print(f"\033[1m$ modelwright serve -w churn -e dev --port {port}\033[0m  (in the background)")
    serve = subprocess.Popen(
        [*CLI, "serve", *scope, "--port", str(port), "--poll", "0.5", "--stats-interval", "1"],
        cwd=ROOT,
        env={**os.environ, "MODELWRIGHT_HOME": str(HOME)},
    )
    try:
        health = wait_for(
            f"{router}/healthz",
            lambda h: (
                len(h["workers"]) == 3 and all(g["state"] == "ready" for g in h["workers"].values())
            ),
            "the router",
        )
        row = '{"dataframe_records": [{"tenure_months": 3, "monthly_charges": 95.5, '
        row += '"support_calls": 4, "contract_years": 0}]}'
        run("endpoint", "invoke", "churn", "--url", router, "-d", row, *scope)
        answered: dict[str, int] = {}
        url = f"{router}/endpoints/churn/dev/churn/invocations"
        with httpx.Client(timeout=30) as http:
            for _ in range(200):
                r = http.post(url, content=row, headers={"content-type": "application/json"})
                who = r.headers["x-modelwright-deployment"]
                answered[who] = answered.get(who, 0) + 1
        print(f"200 requests through the router, answered by: {answered} (weights 80/20)")
        print("the shadow 'candidate' got a copy of each; its answers were captured, not returned")
        workers = {k: len(v["pids"]) for k, v in health["workers"].items()}
        print(f"worker processes per deployment: {workers}")
        time.sleep(2)  # the router flushes its counts every second
        run("endpoint", "stats", "churn", "--since", "5m", *scope)
        rollout(scope, url, row)
    finally:
        serve.terminate()
        serve.wait(timeout=60)
    captured = list((HOME / "data" / "churn" / "dev" / "capture").rglob("*.parquet"))
    print(f"capture files written to the dev datastore: {len(captured)}")


def rollout(scope: list[str], url: str, row: str) -> None:
    """A canary of version 3 under live traffic, judged on its own requests, run by a worker."""
    run("endpoint", "traffic", "churn", "blue=100", *scope, quiet=True)
    run("endpoint", "undeploy", "churn", "green", *scope, quiet=True)
    print("\033[1m$ modelwright worker\033[0m  (in the background: it carries the rollout)")
    worker = subprocess.Popen(
        [*CLI, "worker"], cwd=ROOT, env={**os.environ, "MODELWRIGHT_HOME": str(HOME)}
    )
    stop = threading.Event()

    def traffic() -> None:  # a steady stream of callers meanwhile
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                http.post(url, content=row, headers={"content-type": "application/json"})
                time.sleep(0.02)

    sender = threading.Thread(target=traffic, daemon=True)
    sender.start()
    try:
        out = run(
            "rollout", "start", "churn", "models:/churn/3", "--deployment", "canary",
            "--steps", "25,100", "--bake", "10s", "--alarm", "server_error_rate > 0.01",
            "--alarm", "p99_ms > 500", "--min-requests", "5", *scope, "--json", quiet=True,
        )  # fmt: skip
        rollout_id = json.loads(out)["id"]
        print(
            f"rollout {rollout_id} started: canary 25 % for 10 s, then 100 %, judged on its own requests"
        )
        deadline = time.monotonic() + 180
        while True:
            status = json.loads(run("rollout", "status", str(rollout_id), "--json", quiet=True))
            if status["status"] == "paused" and status["outcome"].startswith("no data"):
                # The canary's worker was still loading: no request reached it, which is
                # inconclusive, not a pass. Judge the step again now that it serves.
                print(f"  paused: {status['outcome']}")
                run("rollout", "resume", str(rollout_id), quiet=True)
                continue
            if status["status"] != "running" or time.monotonic() > deadline:
                break
            time.sleep(1)
        run("rollout", "status", str(rollout_id))
        if status["status"] != "succeeded":
            raise SystemExit(f"demo: the rollout ended {status['status']}: {status['outcome']}")
    finally:
        stop.set()
        sender.join(timeout=30)
        worker.terminate()
        worker.wait(timeout=60)


def batch() -> None:
    """Batch inference over a registered dataset version."""
    scope = ["-w", "churn", "-e", "dev"]
    run(
        "batch",
        "run",
        "models:/churn@challenger",
        "--input",
        "customers@v2",
        "--output",
        "churn-scores",
        "--id-column",
        "customer_id",
        "--chunk-rows",
        "1000",
        *scope,
    )
    run("lineage", "dataset:dev/churn-scores@v1", "-w", "churn")


def promote(*args: str, env: dict[str, str]) -> dict[str, Any]:
    """``modelwright promote ...`` (its output shown), and the promotion as data."""
    run("promote", *args, env=env)
    listed = json.loads(run("promotion", "list", "--limit", "1", "--json", env=env, quiet=True))
    return dict(listed[0])


def until_ended(promotion_id: int, env: dict[str, str], timeout: float = 240) -> dict[str, Any]:
    """Poll a promotion while a worker carries it (its checks, its rollout)."""
    deadline = time.monotonic() + timeout
    while True:
        p = json.loads(run("promotion", "show", str(promotion_id), "--json", env=env, quiet=True))
        if p["status"] not in ("checking", "rolling_out") or time.monotonic() > deadline:
            return dict(p)
        time.sleep(1)


def promotion() -> dict[str, dict[str, str]]:
    step("11. Promotion: the challenger enters staging through its gates and a second pair of eyes")
    tokens = {
        who: json.loads(
            run("token", "create", "--principal", who, "--expires", "1d", "--json", quiet=True)
        )["secret"]
        for who in ("alice", "bob", "carol")
    }
    people = {who: {"MODELWRIGHT_TOKEN": secret} for who, secret in tokens.items()}
    alice, carol = people["alice"], people["carol"]
    # Staging's policy (examples/platform.yaml): val_auc >= 0.7, not worse than staging's
    # champion on the holdout, a smoke test on a temporary endpoint, the policy check, one
    # approval.
    uri = "models:/dev/churn@challenger"
    reason = "best roc_auc on the holdout"
    first = promote(uri, "--to", "staging", "--alias", "champion", "--reason", reason,
                    "-w", "churn", env=alice)  # fmt: skip
    run("approve", str(first["id"]), env=alice, expect=1)  # no approval right (and four eyes)
    run("promotion", "list", "--status", "awaiting_approval", env=carol)
    run("approve", str(first["id"]), "--comment", "gates hold, holdout checked", env=carol)
    run("model", "alias", "history", "churn", "-w", "churn", "-e", "staging")
    return people


def continuous_deployment(people: dict[str, dict[str, str]]) -> None:
    """To prod, then a canary of a retrained version, then a faulty one rolled back."""
    step("12. Continuous deployment: staging → prod, then releases as canaries under live traffic")
    bob, carol = people["bob"], people["carol"]
    prod = ["-w", "churn", "-e", "prod"]
    # The first release: prod's gates (policy, a smoke test, one approval), no endpoint yet.
    first = promote("models:/staging/churn@champion", "--to", "prod", "--alias", "champion",
                    "-w", "churn", env=bob)  # fmt: skip
    run("approve", str(first["id"]), "--comment", "first release", env=carol)
    run("endpoint", "create", "churn", *prod, env=bob, quiet=True)
    run("endpoint", "deploy", "churn", "stable", "models:/prod/churn@champion", *prod, env=bob)
    versions = retrain()
    port = free_port()
    router = f"http://127.0.0.1:{port}"
    print(f"\033[1m$ modelwright serve -w churn -e prod --port {port}\033[0m  (in the background)")
    print("\033[1m$ modelwright worker\033[0m  (in the background: it carries the rollouts)")
    home = {**os.environ, "MODELWRIGHT_HOME": str(HOME)}
    serve = subprocess.Popen(
        [*CLI, "serve", *prod, "--port", str(port), "--poll", "0.5", "--stats-interval", "1"],
        cwd=ROOT,
        env=home,
    )
    worker = subprocess.Popen([*CLI, "worker"], cwd=ROOT, env=home)
    stop = threading.Event()
    answered: dict[int, int] = {}

    def traffic() -> None:  # the CRM calling prod meanwhile, with the four features it knows
        url = f"{router}/endpoints/churn/prod/churn/invocations"
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                try:
                    r = http.post(url, content=ROW, headers={"content-type": "application/json"})
                    answered[r.status_code] = answered.get(r.status_code, 0) + 1
                except httpx.TransportError:
                    answered[0] = answered.get(0, 0) + 1
                time.sleep(0.02)

    try:
        wait_for(f"{router}/healthz", lambda h: bool(h.get("ready")), "the prod router")
        sender = threading.Thread(target=traffic, daemon=True)
        sender.start()
        before = canaries(versions, people)
        stop.set()
        sender.join(timeout=30)
        print(f"answers the CRM got meanwhile, by status: {answered}")
        run("endpoint", "routing", "churn", *prod)
    finally:
        stop.set()
        for proc in (worker, serve):
            proc.terminate()
            proc.wait(timeout=60)
    step("13. History: what was champion in prod, and what served, before the rollback")
    run("model", "alias", "history", "churn", "-w", "churn", "-e", "prod", "--at", before)
    run("endpoint", "history", "churn", *prod, "--at", before)
    run("endpoint", "history", "churn", *prod, "--limit", "8")
    run("model", "card", "models:/prod/churn@champion", "-w", "churn",
        "--set", "intended_use=rank customers for retention calls", "--set", "owners=alice")  # fmt: skip


def canaries(versions: tuple[int, int], people: dict[str, dict[str, str]]) -> str:
    """The retrained version as a canary that completes, then the faulty one, rolled back;
    the time between the two."""
    bob = people["bob"]
    canary = ["--rollout", "canary", "--endpoint", "churn", "--steps", "25,100",
              "--bake", "5s", "--alarm", "error_rate > 0.01", "--alarm", "p99_ms > 500",
              "--min-requests", "5"]  # fmt: skip
    good, faulty = versions
    release(good, "retrained on customers@v2", people)
    p = until_ended(release_prod(good, canary, people), bob)
    print(f"promotion {p['id']}: {p['status']}: {p['outcome']}")
    if p["status"] != "promoted":
        raise SystemExit("demo: the healthy canary did not complete")
    run("rollout", "status", str(p["rollout_id"]), env=bob)
    before = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    time.sleep(1.1)
    # A version that needs an input the callers do not send yet: its gates pass (the
    # holdout and its input example carry `plan`), live traffic does not.
    release(faulty, "adds the customer's plan as a feature", people)
    p = until_ended(release_prod(faulty, canary, people), bob)
    print(f"promotion {p['id']}: {p['status']}: {p['outcome']}")
    if p["status"] != "failed":
        raise SystemExit("demo: the faulty canary was not rolled back")
    run("rollout", "status", str(p["rollout_id"]), env=bob)
    return before


def release(version: int, why: str, people: dict[str, dict[str, str]]) -> None:
    """A new version into staging: alice asks, carol approves."""
    p = promote(f"models:/churn/{version}", "--to", "staging", "--reason", why, "-w", "churn",
                env=people["alice"])  # fmt: skip
    if p["status"] == "awaiting_approval":
        run("approve", str(p["id"]), "--comment", "staging gates hold", env=people["carol"])


def release_prod(version: int, canary: list[str], people: dict[str, dict[str, str]]) -> int:
    """From staging to prod as a canary on the live endpoint: bob asks, carol approves, the
    background worker carries the rollout; the promotion completes only if it does."""
    p = promote(f"models:/churn/{version}", "--to", "prod", "--alias", "champion", *canary,
                "-w", "churn", env=people["bob"])  # fmt: skip
    run("approve", str(p["id"]), "--comment", "release it", env=people["carol"])
    return int(p["id"])


def retrain() -> tuple[int, int]:
    """Two new versions in dev: the same model retrained on more data, and one that also
    reads the customer's plan."""
    sys.path.insert(0, str(ROOT / "examples"))
    import churn

    import modelwright as mw

    mw.set_platform(HOME)
    out = []
    with mw.start_run("churn-model", workspace="churn", environment="dev", name="retrain") as r:
        data = mw.load_dataset("customers@v2")  # recorded as the run's input
        model, _ = churn.train(data, lr=0.01, epochs=20, l2=0.001, run=r)
        out.append(r.log_model(model, "churn", input_example=data[churn.FEATURES].head(5)).version)
    with mw.start_run("churn-model", workspace="churn", environment="dev", name="plan") as r:
        data = mw.load_dataset("customers@v2")
        model = churn.train_with_plan(data, run=r)
        example = data[[*churn.FEATURES, "plan"]].head(5)
        out.append(r.log_model(model, "churn", input_example=example).version)
    mw.get_client().close()
    print(f"registered models:/churn/{out[0]} (retrained) and /{out[1]} (reads the plan too)")
    return out[0], out[1]


class Webhook:
    """A small local receiver for alert webhooks that checks each one's signature."""

    def __init__(self, secret: str) -> None:
        import hashlib
        import hmac
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(
                    f"sha256={digest}", self.headers.get("X-Modelwright-Signature", "")
                )
                alert = json.loads(body)
                outer.received.append(alert)
                print(f"  webhook received (signature {'valid' if signed else 'INVALID'}): "
                      f"{alert.get('summary', alert)}", flush=True)  # fmt: skip
                self.send_response(204 if signed else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def shifted_traffic(url: str, n: int) -> None:
    """Callers from a new campaign: short tenures, high charges, many support calls."""
    import random

    rng = random.Random(5)  # noqa: S311 (synthetic traffic)
    with httpx.Client(timeout=30) as http:
        for _ in range(n):
            record = {
                "tenure_months": rng.randint(1, 6),
                "monthly_charges": round(rng.gauss(120, 10), 2),
                "support_calls": rng.randint(4, 9),
                "contract_years": 0,
            }
            http.post(url, json={"dataframe_records": [record]})


def monitoring(people: dict[str, dict[str, str]]) -> None:
    step(
        "14. Monitoring: prod traffic drifts, an alert reaches a webhook, retraining asks for staging"
    )
    bob = {**people["bob"], "MODELWRIGHT_ALERT_WEBHOOK_PRIVATE": "true"}  # a local receiver
    prod = ["-w", "churn", "-e", "prod"]
    run("endpoint", "deploy", "churn", "churn-v4", "models:/prod/churn@champion",
        "--capture-rate", "1.0", *prod, env=bob, quiet=True)  # fmt: skip
    run("monitor", "create", "churn-drift", "--endpoint", "churn", "--baseline", "customers@v1",
        "--window", "10m", "--signals", "drift,quality,service", *prod, env=bob)  # fmt: skip
    secret = secrets.token_hex(16)
    webhook = Webhook(secret)
    run("monitor", "alert", "add", "churn-drift", "drift", "--when", "drift.share >= 0.5",
        "--for", "1", "--sink", f"webhook:{webhook.url}", "--secret", secret, *prod,
        env=bob)  # fmt: skip
    # When an alert fires: retrain on the newest customers in dev and ask for staging.
    new_data()
    run("monitor", "retrain", "set", "churn-drift", "--project", "examples/churn_retrain",
        "--pipeline", "retrain", "--model", "churn", "--example", "example", "--train-in", "dev",
        "--promote-to", "staging", "--cooldown", "6h", *prod, env=bob)  # fmt: skip
    port = free_port()
    home = {**os.environ, "MODELWRIGHT_HOME": str(HOME)}
    print(f"\033[1m$ modelwright serve -w churn -e prod --port {port}\033[0m  (in the background)")
    print("\033[1m$ modelwright worker\033[0m  (in the background: it carries the retraining)")
    serve = subprocess.Popen(
        [*CLI, "serve", *prod, "--port", str(port), "--stats-interval", "1"], cwd=ROOT, env=home
    )
    worker = subprocess.Popen([*CLI, "worker"], cwd=ROOT, env=home)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", lambda h: bool(h.get("ready")), "the router")
        shifted_traffic(f"http://127.0.0.1:{port}/endpoints/churn/prod/churn/invocations", 400)
        print("400 requests from a new campaign sent to prod; every one captured")
        time.sleep(2.5)  # capture and serving statistics are flushed every second
        run("monitor", "run", "churn-drift", *prod, env=bob)
        run("monitor", "history", "churn-drift", "--signal", "drift", *prod, env=bob)
        run("monitor", "alerts", "churn-drift", *prod, env=bob)
        if not webhook.received:
            raise SystemExit("demo: the drift alert did not reach the webhook")
        retrained = until_retrained(bob)
        run("monitor", "retrain", "show", "churn-drift", *prod, env=bob)
        until_ended(retrained["promotion_id"], bob)  # its gates run; then it awaits approval
        run("promotion", "show", str(retrained["promotion_id"]), env=bob)
        report = HOME / "churn-drift-report.html"
        run("monitor", "report", "churn-drift", "--out", str(report), *prod, env=bob)
    finally:
        for proc in (worker, serve):
            proc.terminate()
            proc.wait(timeout=60)
        webhook.close()


def new_data() -> None:
    """This month's customers extract lands in dev as customers@v3."""
    sys.path.insert(0, str(ROOT / "examples"))
    import churn

    import modelwright as mw

    mw.set_platform(HOME)
    fresh = churn.make_customers(n=3_000, seed=31)
    v3 = mw.register_dataset("customers", fresh, workspace="churn", environment="dev")
    mw.get_client().close()
    print(f"registered customers@v{v3.version} in churn/dev (this month's extract)")


def until_retrained(env: dict[str, str], timeout: float = 240) -> dict[str, Any]:
    """The retraining the firing alert started, once a worker has carried it through."""
    prod = ["-w", "churn", "-e", "prod"]
    deadline = time.monotonic() + timeout
    while True:
        shown = json.loads(
            run("monitor", "retrain", "show", "churn-drift", *prod, "--json", env=env, quiet=True)
        )
        history = shown["history"]
        if history and history[0]["status"] != "running":
            if history[0]["status"] != "succeeded":
                raise SystemExit(f"demo: the retraining {history[0]['status']}: {history[0]}")
            return dict(history[0])
        if time.monotonic() > deadline:
            raise SystemExit("demo: the retraining did not finish")
        time.sleep(1)


def cd_and_monitoring() -> None:
    people = promotion()
    continuous_deployment(people)
    monitoring(people)


def audit_and_export() -> None:
    step("15. The audit trail: every change, who made it and when")
    run("audit", "--limit", "8")
    # The same changes as domain events, which workflows and the UI follow by id.
    run("events", "-w", "churn", "--kind", "alias.*", "--limit", "5")

    step("16. Export: the live state as a platform.yaml that apply accepts")
    run("export", "-o", str(HOME / "exported.yaml"))
    run("apply", "-f", str(HOME / "exported.yaml"), "--dry-run")


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
        str(HOME / "data" / "x"),
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

    step("5. Versioned data: a DataFrame registered twice, profiled, diffed")
    lifecycle()

    step("9. Serving: a traffic split and a shadow behind one router, worker processes supervised")
    serving()

    step("10. Batch inference: the challenger over customers@v2, output registered with lineage")
    batch()

    cd_and_monitoring()
    audit_and_export()
    print("\ndemo: done")
    print(
        f"Open the web UI over what the demo made: .venv/bin/modelwright ui --home {HOME}\n"
        "(it prints a link that signs you in once; the runs, their charts and artifacts, "
        "comparisons and the audit trail are there)"
    )


if __name__ == "__main__":
    main()
