"""A deployment's prediction method: kept in its serving config, refused (naming the field)
when the version's signature says the model lacks it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.endpoints.conftest import register_churn

from modelwright.client import Client
from modelwright.errors import InvalidInput

pytest.importorskip("sklearn")


def register_price(client: Client) -> None:
    from sklearn.linear_model import Ridge

    x = pd.DataFrame({"rooms": np.arange(20.0), "age": np.arange(20.0) % 7})
    with client.start_run("price", workspace="ml", environment="dev") as run:
        run.log_model(Ridge().fit(x, 3 * x["rooms"]), "price", input_example=x[:3])


def test_a_deployment_keeps_its_method_and_refuses_one_the_model_lacks(client: Client) -> None:
    register_churn(client, versions=1)
    register_price(client)
    client.create_endpoint("churn", workspace="ml", environment="dev")
    ep = client.deploy(
        "churn", "blue", "churn", 1, config={"method": "predict_proba"}, workspace="ml",
        environment="dev",
    )  # fmt: skip
    assert [d.config.method for d in ep.deployments] == ["predict_proba"]
    ep = client.deploy("churn", "blue", "churn", 1, workspace="ml", environment="dev")
    assert [d.config.method for d in ep.deployments] == ["predict"]

    client.create_endpoint("price", workspace="ml", environment="dev")
    with pytest.raises(InvalidInput) as lacks:
        client.deploy(
            "price", "blue", "price", 1, config={"method": "predict_proba"}, workspace="ml",
            environment="dev",
        )  # fmt: skip
    assert lacks.value.message == (
        "config.method: models:/price/1 has no predict_proba (it has predict)"
    )
    assert lacks.value.details["field"] == "config.method"
    assert client.get_endpoint("price", workspace="ml", environment="dev").deployments == []
