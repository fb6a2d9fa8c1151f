"""A packaged model runs where only its files are: a fresh virtual environment made from its
pinned ``requirements.txt`` (from PyPI, with modelwright itself as a wheel of this checkout)
starts ``serve.py``, which answers a prediction equal to the one made in process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from modelwright.client import Client

pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], *, timeout: float, env: dict[str, str]) -> None:
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stderr[-4000:]}"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_package_serves_from_a_fresh_venv(client: Client, frame, labels, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELWRIGHT_", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        timeout=300,
        env=env,
    )
    (wheel,) = wheels.glob("modelwright-*.whl")

    client.create_workspace("ml")
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)
    with client.start_run("churn", workspace="ml") as run:
        run.log_model(model, "churn", input_example=frame[:5])
    out = client.package_model(
        "models:/churn/1",
        tmp_path / "pkg",
        workspace="ml",
        modelwright_requirement=f"modelwright @ {wheel.as_uri()}",
    )
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert requirements[0] == f"modelwright @ {wheel.as_uri()}"
    assert all("==" in r for r in requirements[1:]), requirements
    assert {r.split("==")[0] for r in requirements[1:]} >= {"scikit-learn", "skops", "numpy"}

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=120, env=env)
    python = venv / "bin" / "python"
    # No bytecode at install (the server compiles what it imports): the install stays short.
    install = [str(python), "-m", "pip", "install", "-q", "--no-compile"]
    _run([*install, "-r", str(out / "requirements.txt")], timeout=600, env=env)

    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(python), str(out / "serve.py"), "--port", str(port)],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"serve.py did not start:\n{log.read_text()}"
            time.sleep(0.3)
        rows = frame[:7]
        split = {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}
        r = httpx.post(f"{url}/invocations", json={"dataframe_split": split}, timeout=30)
        assert r.status_code == 200, r.text
        expected = client.load_model("models:/churn/1", workspace="ml").predict(rows)
        assert r.json() == {"predictions": expected.tolist()}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
