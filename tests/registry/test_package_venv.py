"""A packaged model runs where only its files are: a fresh virtual environment gets modelwright
from the wheel inside the package and everything ``requirements.txt`` pins, offline, and
``serve.py`` (a skops model: never ``--trust-pickle``) answers the prediction made in process."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import httpx
import pytest

from modelwright.client import Client

pytest.importorskip("sklearn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    done = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_package_serves_from_a_venv_built_offline_from_its_own_files(
    client: Client, frame, labels, tmp_path: Path
) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    client.create_workspace("ml")
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    model = make_pipeline(StandardScaler(), forest).fit(frame, labels)
    with client.start_run("churn", workspace="ml") as run:
        run.log_model(model, "churn", input_example=frame[:5])
    out = client.package_model("models:/churn/1", tmp_path / "pkg", workspace="ml")

    (wheel,) = (out / "wheels").glob("modelwright-*-py3-none-any.whl")
    requirements = (out / "requirements.txt").read_text().splitlines()
    assert requirements[0] == f"./wheels/{wheel.name}"
    assert all("==" in r for r in requirements[1:]), requirements
    assert {r.split("==")[0] for r in requirements[1:]} >= {"scikit-learn", "skops", "numpy"}
    # skops loads the pipeline without running code from the file: serve.py names the one
    # type skops does not trust by default (the forest's trees) and grants nothing else.
    serve = (out / "serve.py").read_text()
    assert "--trust-pickle" not in serve
    assert '"--trust-types", "sklearn.tree._tree.Tree"]' in serve
    about = json.loads((out / "package.json").read_text())
    assert about["wheel"] == wheel.name
    assert about["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    docker = (out / "Dockerfile").read_text()
    assert docker.index("COPY wheels/ wheels/") < docker.index("RUN pip install")
    readme = (out / "README.md").read_text()
    for text in (docker, readme):  # what is pinned, said where the image is built
        assert f"wheels/{wheel.name}" in text and f"(sha256:{about['sha256']})" in text

    # No index at all, and nothing of this checkout on the path (PYTHONPATH would lend it).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODELWRIGHT_", "PYTHON"))}
    env |= {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    python = str(venv / "bin" / "python")
    site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=tmp_path,
            env=env,
        ).strip()
    )
    # The third-party requirements come from this interpreter's site-packages, lent by a
    # .pth file: this interpreter is a venv itself, so --system-site-packages would reach its
    # base interpreter's instead. The .pth files over there are not run (an editable
    # modelwright's among them), and the venv's own site-packages comes first.
    lent = dict.fromkeys(sysconfig.get_path(p) for p in ("purelib", "platlib"))
    (site / "_lent.pth").write_text("".join(f"{p}\n" for p in lent))
    pip = [sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--no-compile"]
    _run([*pip, "--no-deps", f"./wheels/{wheel.name}"], cwd=out, env=env)
    # Every line of requirements.txt, the relative wheel path included, is met offline.
    _run([*pip, "-r", "requirements.txt"], cwd=out, env=env)
    where = _run(
        [python, "-c", "import modelwright; print(modelwright.__file__)"], cwd=tmp_path, env=env
    )
    assert Path(where.strip()).is_relative_to(site), where

    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [python, str(out / "serve.py"), "--port", str(port)],
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
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
        assert expected.tolist() == model.predict(rows).tolist()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
