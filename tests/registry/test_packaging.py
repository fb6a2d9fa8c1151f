"""``package_model``: the generated directory serves the model; the files are well formed."""

from __future__ import annotations

import json
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from tests.registry.conftest import Doubler

from modelwright.client import Client
from modelwright.errors import InvalidInput, PermissionDenied

pytest.importorskip("sklearn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_package_serves_predictions(client: Client, frame, labels, tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    client.create_workspace("ml")
    model = LogisticRegression().fit(frame, labels)
    with client.start_run("churn", workspace="ml") as run:
        run.log_model(model, "churn", input_example=frame[:5])
    out = client.package_model(
        "models:/churn/1",
        tmp_path / "pkg",
        kubernetes=True,
        image="reg.local/churn:1",
        workspace="ml",
    )
    assert (out / "model" / "modelwright.json").is_file()
    reqs = (out / "requirements.txt").read_text().splitlines()
    (wheel,) = (out / "wheels").iterdir()
    assert reqs[0] == f"./wheels/{wheel.name}" and any(r.startswith("scikit-learn==") for r in reqs)
    docker = (out / "Dockerfile").read_text()
    assert docker.startswith("# Built by `modelwright model package` for models:/churn/1")
    for line in (
        "FROM python:3.",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "EXPOSE 8080",
        "COPY wheels/ wheels/",
        "USER model",
    ):
        assert line in docker
    assert 'CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "8080"]' in docker
    deployment = yaml.safe_load((out / "k8s" / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "reg.local/churn:1"
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["limits"]["memory"] == "1Gi"
    service = yaml.safe_load((out / "k8s" / "service.yaml").read_text())
    assert service["kind"] == "Service" and service["spec"]["ports"][0]["targetPort"] == "http"
    with pytest.raises(InvalidInput, match="exists and is not empty"):
        client.package_model("models:/churn/1", out, workspace="ml")

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(out / "serve.py"), "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
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
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the packaged server did not start"
            time.sleep(0.2)
        rows = frame[:3]
        split = {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}
        r = httpx.post(f"{url}/invocations", json={"dataframe_split": split})
        assert r.status_code == 200, r.text
        assert r.json() == {"predictions": model.predict(rows).tolist()}
        r = httpx.post(f"{url}/invocations", json={"instances": rows.to_dict(orient="records")})
        assert r.json()["predictions"] == model.predict(rows).tolist()
        bad = httpx.post(
            f"{url}/invocations", json={"dataframe_split": {"columns": ["tenure"], "data": [[1.0]]}}
        )
        # The API of `modelwright serve`: MLflow's scoring errors, and the Open Inference Protocol.
        assert bad.status_code == 400 and bad.json()["error_code"] == "BAD_REQUEST"
        assert "missing column 'calls'" in bad.json()["message"]
        meta = httpx.get(f"{url}/v2/models/churn").json()
        assert (meta["name"], meta["versions"]) == ("churn", ["1"])
        assert httpx.get(f"{url}/v2/models/churn/versions/1/ready").json()["ready"] is True
        types = {"tenure": "FP64", "calls": "INT64"}
        infer = {
            "inputs": [
                {"name": c, "shape": [len(rows)], "datatype": t, "data": rows[c].tolist()}
                for c, t in types.items()
            ]
        }
        r = httpx.post(f"{url}/v2/models/churn/infer", json=infer)
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["data"] == model.predict(rows).tolist()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_a_named_modelwright_requirement_replaces_the_bundled_wheel(
    client: Client, frame, labels, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    client.create_workspace("ml")
    with client.start_run("churn", workspace="ml") as run:
        run.log_model(LogisticRegression().fit(frame, labels), "churn")
    out = client.package_model(
        "models:/churn/1",
        tmp_path / "pkg",
        workspace="ml",
        modelwright_requirement="modelwright==0.1.0",
    )
    assert not (out / "wheels").exists()
    reqs = (out / "requirements.txt").read_text().splitlines()
    assert reqs[0] == "modelwright==0.1.0" and not any("wheel" in r for r in reqs)
    docker = (out / "Dockerfile").read_text()
    assert "COPY wheels/" not in docker and "modelwright as modelwright==0.1.0" in docker
    assert "- modelwright as modelwright==0.1.0." in (out / "README.md").read_text()
    assert json.loads((out / "package.json").read_text())["requirement"] == "modelwright==0.1.0"


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_serve_py_trusts_what_the_model_needs_and_no_more(
    client: Client, frame, labels, tmp_path: Path
) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from modelwright.serving.packaged import _parser, load_packaged

    client.create_workspace("ml")
    models = {
        # skops trusts a linear model; a forest's trees it does not by default; pickle runs code.
        "linear": (LogisticRegression().fit(frame, labels), []),
        "forest": (
            RandomForestClassifier(n_estimators=3, random_state=0).fit(frame, labels),
            ["--trust-types", "sklearn.tree._tree.Tree"],
        ),
        "doubler": (Doubler(), ["--trust-pickle"]),
    }
    for name, (model, trust) in models.items():
        with client.start_run(name, workspace="ml") as run:
            run.log_model(model, name)
        out = client.package_model(f"models:/{name}/1", tmp_path / name, workspace="ml")
        argv = runpy.run_path(str(out / "serve.py"))["MODEL"]
        assert [a for a in argv if a.startswith("--trust")] == trust[:1], name
        assert argv[len(argv) - len(trust) :] == trust, name
        args = _parser().parse_args(["--model-dir", str(out / "model"), *argv])
        loaded = load_packaged(
            args.model_dir,
            digest=args.digest,
            trusted=args.trust_pickle,
            trusted_types=args.trust_types,
        )
        assert loaded.predict(frame[:4]).tolist() == model.predict(frame[:4]).tolist()
        if trust:
            with pytest.raises(PermissionDenied, match="trust_pickle=True"):
                load_packaged(out / "model", digest=args.digest)
    readme = {
        name: " ".join((tmp_path / name / "README.md").read_text().split()) for name in models
    }
    assert "`--trust-types` (no other type is loaded): sklearn.tree._tree.Tree." in readme["forest"]
    assert "(pickle), which `serve.py` allows with `--trust-pickle`." in readme["doubler"]
    assert "Loading the model runs no code from the artifact." in readme["linear"]


def test_pins_are_installable_from_an_index() -> None:
    from modelwright.registry.requirements import pin

    lock = ["torch==2.13.0+cpu", "Scikit_Learn==1.9.1", "numpy==2.4.6"]
    assert pin(["torch", "scikit-learn", "numpy", "not-installed-anywhere"], lock) == [
        "numpy==2.4.6",
        "scikit-learn==1.9.1",
        "torch==2.13.0",
    ]
