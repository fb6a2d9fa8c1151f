"""``modelwright serve`` end to end: real router, real worker processes, real endpoint changes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer
from tests.endpoints.conftest import register_churn
from tests.serving.conftest import free_port

import modelwright
from modelwright.client import Client

ROW = {"dataframe_records": [{"tenure": 0.4, "calls": 1}]}


class Serve:
    """``modelwright serve`` in a child process, with its router URL."""

    def __init__(
        self, home: Path, *args: str, url: str | None = None, token: str | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / "serve.log"
        env = {**os.environ, "MODELWRIGHT_HOME": str(home)}
        if url is not None:
            env |= {"MODELWRIGHT_URL": url, "MODELWRIGHT_TOKEN": token or ""}
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modelwright",
                "serve",
                "-w",
                "ml",
                "-e",
                "dev",
                "--port",
                str(self.port),
                "--poll",
                "0.3",
                *args,
            ],
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text()

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=5).json())

    def wait(self, check: Callable[[dict[str, Any]], bool], timeout: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                health = self.health()
                if check(health):
                    return health
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out; router output:\n{self.output()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        finally:
            self._out.close()


@pytest.fixture
def churn_home(tmp_path: Path) -> Iterator[tuple[Client, Path]]:
    home = tmp_path / "home"
    with modelwright.connect(home) as client:
        register_churn(client)
        client.create_endpoint("churn", workspace="ml", environment="dev")
        client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
        yield client, home


def _ready(*groups: str) -> Callable[[dict[str, Any]], bool]:
    def check(health: dict[str, Any]) -> bool:
        workers = health["workers"]
        return all(workers.get(g, {}).get("state") == "ready" for g in groups)

    return check


def _routing(client: Client, state: str, problem: str = "", timeout: float = 60.0) -> Any:
    """The endpoint's live routing once the routers' reports put it in ``state`` (with a
    router's ``problem`` starting so)."""
    deadline = time.monotonic() + timeout
    while True:
        live = client.endpoint_routing("churn", workspace="ml", environment="dev")
        said = [r.problem for r in live.routers if r.problem.startswith(problem)]
        if (live.state == state and (said or not problem)) or time.monotonic() > deadline:
            return live
        time.sleep(0.2)


class Load(threading.Thread):
    """Requests back to back until stopped; remembers every status and who answered."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{url}/endpoints/ml/dev/churn/invocations"
        self.statuses: Counter[int] = Counter()
        self.answered: Counter[str] = Counter()
        self.errors: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=60) as http:
            while not self.stopping.is_set():
                try:
                    r = http.post(self.url, json=ROW)
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))
                    continue
                self.statuses[r.status_code] += 1
                self.answered[r.headers.get("x-modelwright-deployment", "")] += 1
                if r.status_code != 200:
                    self.errors.append(r.text)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)


def test_serve_routes_restarts_and_follows_changes_without_dropping_requests(
    churn_home: tuple[Client, Path],
) -> None:
    client, home = churn_home
    serve = Serve(home)
    try:
        health = serve.wait(_ready("churn/blue"))
        assert health["endpoints"]["churn"]["deployments"] == {"blue": 100}
        assert health["ready"] is True and health["endpoints"]["churn"]["ready"] is True
        r = httpx.post(f"{serve.url}/endpoints/ml/dev/churn/invocations", json=ROW)
        assert r.status_code == 200 and r.json() == {"predictions": [1]}

        # The CLI's invoke goes through the same router.
        cli = subprocess.run(
            [
                sys.executable,
                "-m",
                "modelwright",
                "endpoint",
                "invoke",
                "churn",
                "-w",
                "ml",
                "-e",
                "dev",
                "--url",
                serve.url,
                "-d",
                '{"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.4, 1]]}}',
                "--json",
            ],
            env={**os.environ, "MODELWRIGHT_HOME": str(home)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert cli.returncode == 0, cli.stderr
        assert json.loads(cli.stdout) == {"predictions": [1]}

        # So does Triton's own client, unchanged, with binary tensors.
        import numpy as np
        import tritonclient.http as triton

        endpoint = f"127.0.0.1:{serve.port}/endpoints/ml/dev/churn"
        with contextlib.closing(triton.InferenceServerClient(url=endpoint)) as tc:
            tenure = triton.InferInput("tenure", [1], "FP64")
            tenure.set_data_from_numpy(np.array([0.4]))
            calls = triton.InferInput("calls", [1], "INT64")
            calls.set_data_from_numpy(np.array([1]))
            result = tc.infer("churn", [tenure, calls])
            assert result.as_numpy("predict").tolist() == [1]

        load = Load(serve.url)
        load.start()
        # A worker killed under load is restarted; callers see no error (the listening socket
        # stays open, so requests wait for the new worker instead of failing).
        (pid,) = health["workers"]["churn/blue"]["pids"]
        os.kill(pid, signal.SIGKILL)
        serve.wait(lambda h: h["workers"]["churn/blue"]["pids"] not in ([], [pid]))
        # A new deployment with two workers, then a 50/50 split, then blue retired: all while
        # requests keep flowing.
        client.deploy(
            "churn", "green", "churn", 2, config={"workers": 2}, workspace="ml", environment="dev"
        )
        serve.wait(_ready("churn/green"))
        client.set_traffic("churn", {"blue": 50, "green": 50}, workspace="ml", environment="dev")
        serve.wait(lambda h: h["endpoints"]["churn"]["deployments"] == {"blue": 50, "green": 50})
        # The router reports what it routes by: the platform sees it matches the record.
        live = _routing(client, "matches")
        assert live.state == "matches" and live.routers[0].serving == {"blue": 50, "green": 50}
        time.sleep(1.0)
        client.set_traffic("churn", {"green": 100}, workspace="ml", environment="dev")
        client.undeploy("churn", "blue", workspace="ml", environment="dev")
        health = serve.wait(lambda h: "churn/blue" not in h["workers"])
        assert len(health["workers"]["churn/green"]["pids"]) == 2
        before = load.answered["green"]
        time.sleep(0.5)
        load.stop()
        assert load.errors == [] and set(load.statuses) == {200}, load.errors[:3]
        assert load.answered["blue"] > 0 and load.answered["green"] > before
        metrics = httpx.get(f"{serve.url}/metrics").text
        assert (
            'modelwright_router_worker_restarts_total{deployment="blue",endpoint="churn"} 1.0'
            in metrics
        )
    finally:
        code = serve.stop()
    assert code == 0, serve.output()
    out = serve.output()
    assert "ready churn/blue" in out and "retiring churn/blue" in out and "stopping workers" in out
    # No worker outlives the router.
    leftover = subprocess.run(
        ["pgrep", "-f", f"modelwright.serving.worker.*{home.name}"],
        capture_output=True,
        check=False,
    )
    assert leftover.stdout == b""


def test_serve_reports_a_deployment_that_cannot_start(churn_home: tuple[Client, Path]) -> None:
    client, home = churn_home
    ep = client.deploy("churn", "green", "churn", 2, workspace="ml", environment="dev")
    # Tamper with version 2's stored manifest: its workers must refuse to load it.
    digest = next(d.digest for d in ep.deployments if d.name == "green")
    manifest = home / "artifacts" / "objects" / "sha256" / digest[:2] / digest[2:]
    manifest.chmod(0o644)
    manifest.write_bytes(b"{}")
    serve = Serve(home, "--ready-timeout", "30")
    try:
        health = serve.wait(
            lambda h: (
                h["workers"].get("churn/green", {}).get("state") == "failed"
                and h["workers"].get("churn/blue", {}).get("state") == "ready"
            )
        )
        assert health["endpoints"]["churn"]["deployments"] == {"blue": 100}
        url = f"{serve.url}/endpoints/ml/dev/churn/invocations"
        assert httpx.post(url, json=ROW).status_code == 200
        r = httpx.post(url, json=ROW, headers={"x-modelwright-deployment": "green"})
        assert r.status_code == 404 and "no running deployment 'green'" in r.text
        # Giving green traffic it cannot take: the live routing differs from the record.
        client.set_traffic("churn", {"blue": 50, "green": 50}, workspace="ml", environment="dev")
        # (First the router lags a generation; once it follows, green still cannot serve.)
        live = _routing(client, "differs", problem="serves", timeout=120)
        assert live.state == "differs", live
        assert live.routers[0].problem == "serves blue 50%, the record says blue 50%, green 50%"
    finally:
        assert serve.stop() == 0
    assert "error: churn/green did not start: every worker exited" in serve.output()


@pytest.mark.parametrize("db", ["sqlite"])
def test_serve_against_a_server_checks_callers_tokens(
    server: LiveServer, local_client: Client, tmp_path: Path
) -> None:
    register_churn(local_client, versions=1)
    local_client.create_endpoint("churn", workspace="ml", environment="dev")
    local_client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    for name, role in (("router", "ml-engineer"), ("app", "data-scientist"), ("olga", "viewer")):
        local_client.create_principal(name, kind="service" if name == "router" else "user")
        local_client.grant(name, role, "ml")
    tokens = {n: local_client.create_token(principal=n).secret for n in ("router", "app", "olga")}
    # The router and its workers reach the platform only through the REST server.
    serve = Serve(
        tmp_path / "unused-home", "--ready-timeout", "60", url=server.url, token=tokens["router"]
    )
    url = f"{serve.url}/endpoints/ml/dev/churn/invocations"
    try:
        serve.wait(_ready("churn/blue"))
        r = httpx.post(url, json=ROW)
        assert r.status_code == 401 and "missing token" in r.text
        r = httpx.post(url, json=ROW, headers={"authorization": f"Bearer {tokens['olga']}"})
        assert r.status_code == 403 and "olga" in r.json()["message"]
        r = httpx.post(url, json=ROW, headers={"authorization": f"Bearer {tokens['app']}"})
        assert r.status_code == 200 and r.json() == {"predictions": [1]}
    finally:
        assert serve.stop() == 0


def test_serve_refuses_an_identity_that_may_not_check_tokens(
    server: LiveServer, local_client: Client, tmp_path: Path
) -> None:
    """Checking callers' tokens is for a router's service account, not a user's token."""
    local_client.create_workspace("ml")
    local_client.create_principal("eve")
    local_client.grant("eve", "ml-engineer", "ml")
    token = local_client.create_token(principal="eve").secret
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelwright",
            "--url",
            server.url,
            "--token",
            token,
            "serve",
            "-w",
            "ml",
            "-e",
            "dev",
            "--port",
            "0",
        ],
        env={**os.environ, "MODELWRIGHT_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    assert "only a router's service account" in done.stderr
    assert "starting" not in done.stdout


def test_serve_refuses_a_taken_port_before_starting_anything(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "modelwright", "serve", "--port", str(port)],
            env={**os.environ, "MODELWRIGHT_HOME": str(tmp_path / "home")},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 1
    assert f"--port: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "starting" not in done.stdout
