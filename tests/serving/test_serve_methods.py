"""``modelwright serve`` end to end: a deployment answers the prediction method it was deployed
with, and a request may ask any deployment for another one."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from tests.endpoints.conftest import register_churn
from tests.serving.test_serve import ROW, Serve

import modelwright


def test_a_deployment_serves_its_method(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with modelwright.connect(home) as client:
        register_churn(client)
        client.create_endpoint("churn", workspace="ml", environment="dev")
        client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
        client.deploy(
            "churn", "green", "churn", 2, weight=0, config={"method": "predict_proba"},
            workspace="ml", environment="dev",
        )  # fmt: skip
        v2 = client.load_model("models:/churn/2", workspace="ml")
        v1 = client.load_model("models:/churn/1", workspace="ml")
    rows = pd.DataFrame.from_records(ROW["dataframe_records"])
    serve = Serve(home)
    try:
        serve.wait(
            lambda h: all(
                h["workers"].get(g, {}).get("state") == "ready"
                for g in ("churn/blue", "churn/green")
            )
        )
        url = f"{serve.url}/endpoints/ml/dev/churn/invocations"
        r = httpx.post(url, json=ROW, headers={"x-modelwright-deployment": "green"}, timeout=30)
        assert r.status_code == 200, r.text
        (answer,) = r.json()["predictions"]
        assert list(answer) == ["0", "1"]
        np.testing.assert_array_equal(list(answer.values()), v2.raw.predict_proba(rows)[0])
        r = httpx.post(url, json=ROW, timeout=30)
        assert r.headers["x-modelwright-deployment"] == "blue"
        assert r.json()["predictions"] == v1.raw.predict(rows).tolist()
        asked = {**ROW, "params": {"method": "predict_proba"}}
        r = httpx.post(url, json=asked, timeout=30)
        (answer,) = r.json()["predictions"]
        np.testing.assert_array_equal(list(answer.values()), v1.raw.predict_proba(rows)[0])
    finally:
        assert serve.stop() == 0
