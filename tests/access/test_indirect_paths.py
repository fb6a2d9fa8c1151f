"""Access holds on every path a caller can reach bytes or names by, not only the route named
after the action: records that name a digest, raw object routes, listings, lineage, aliases,
endpoints, datastore URLs, principals and token introspection.

A production world (a prod run with an artifact and a model version, a prod dataset, a prod
endpoint) faces principals who may not read production: a data scientist of dev, a data
scientist of another workspace, and a viewer of dev. Each probe must refuse or hide for each
of them, and still work for a principal who may read production. Both backends (in process
and HTTP), both databases.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector

from modelwright import InvalidInput, ModelwrightError, NotFound, PermissionDenied
from modelwright.api import operations as ops
from modelwright.api import registry as reg_ops
from modelwright.api import tracking as tr_ops
from modelwright.client import Client

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]
OUTSIDERS = {
    "dev-scientist": ("data-scientist", "w", "dev"),
    "other-scientist": ("data-scientist", "other", "*"),
    "dev-viewer": ("viewer", "w", "dev"),
}
INSIDER = ("prod-reader", ("viewer", "w", "prod"))


@dataclass
class ProdWorld:
    admin: Client
    artifact: str  # a prod run's artifact
    manifest: str  # a prod model version's manifest
    model_file: str  # one file of that version
    dataset_digest: str


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(tmp_path / "client-cache"))
    monkeypatch.delenv("MODELWRIGHT_ENVIRONMENT", raising=False)


@pytest.fixture
def world(connector: Connector, tmp_path: Path) -> ProdWorld:
    from sklearn.linear_model import LogisticRegression

    admin = connector.local_admin
    for ws in ("w", "other"):
        admin.create_workspace(ws)
        for env in ("dev", "staging", "prod"):
            cls = "production" if env == "prod" else "non-production"
            admin.create_datastore(ws, env, "store", str(tmp_path / ws / env), classification=cls)
    admin.create_principal("carol", email="carol@example.com")
    admin.grant("carol", "admin", "w", "prod")
    for name, (role, ws, env) in [*OUTSIDERS.items(), INSIDER]:
        admin.create_principal(name, email=f"{name}@example.com")
        admin.grant(name, role, ws, env)

    x = pd.DataFrame({"a": np.linspace(-1, 1, 20), "b": np.arange(20) % 3})
    y = (x["a"] > 0).astype(int).to_numpy()
    secret = tmp_path / "secret.txt"
    secret.write_text("prod only")
    with admin.start_run("churn", workspace="w", environment="prod", snapshot=False) as run:
        artifact = run.log_artifact(secret)[0]
        version = run.log_model(LogisticRegression().fit(x, y), "churn", input_example=x[:2])
    admin.set_alias("churn", "champion", version.version, workspace="w", environment="prod")
    admin.act_in("prod")
    data = admin.register_dataset("customers", x, workspace="w", environment="prod")
    admin.act_in(None)
    admin.create_endpoint("scoring", workspace="w", environment="prod")
    admin.deploy("scoring", "blue", "churn", version.version, workspace="w", environment="prod")
    return ProdWorld(
        admin=admin,
        artifact=artifact.digest,
        manifest=version.digest,
        model_file=version.files[0].digest,
        dataset_digest=data.digest,
    )


@pytest.fixture
def outsiders(connector: Connector, world: ProdWorld) -> dict[str, Client]:
    return {name: connector.as_principal(name) for name in OUTSIDERS}


def _own_run(client: Client, name: str) -> str:
    ws, env = OUTSIDERS[name][1], OUTSIDERS[name][2]
    env = "dev" if env == "*" else env
    return client.start_run("probe", workspace=ws, environment=env, snapshot=False).id


def test_naming_a_production_digest_never_grants_its_bytes(
    world: ProdWorld, outsiders: dict[str, Client], unchanged: Unchanged
) -> None:
    digests = [world.artifact, world.manifest, world.model_file]
    wrong: list[str] = []
    for name, client in outsiders.items():
        writes = OUTSIDERS[name][0] != "viewer"
        run_id = _own_run(client, name) if writes else None
        for digest in digests:
            # 1. Record the digest on an own run (the laundering path).
            if run_id is not None:
                with unchanged(), pytest.raises(InvalidInput) as info:
                    client.call(
                        tr_ops.LOG_ARTIFACTS,
                        run_id=run_id,
                        artifacts=[{"path": "stolen", "digest": digest, "size": 1}],
                    )
                message = info.value.message
                if "upload it before naming it" not in message or "store" in message:
                    wrong.append(f"{name}: log_artifacts answer tells too much: {message}")
                # 2. Register a model version from the digest.
                ws = OUTSIDERS[name][1]
                with unchanged(), pytest.raises(InvalidInput):
                    client.call(
                        reg_ops.REGISTER_MODEL_VERSION,
                        workspace=ws,
                        name="stolen",
                        environment="dev",
                        manifest=digest,
                    )
            # 3. Whatever was tried, the bytes stay unreadable.
            for scope_get in (client.transport.get_object,):
                try:
                    from modelwright.objects.models import ObjectScope

                    scope_get(ObjectScope.artifacts(), digest)
                    wrong.append(f"{name}: read production bytes {digest[:12]}")
                except NotFound:
                    pass
    assert not wrong, "\n".join(wrong)
    # A principal who may read production reads them.
    reader = world.admin
    from modelwright.objects.models import ObjectScope

    assert reader.transport.get_object(ObjectScope.artifacts(), world.artifact) == b"prod only"


def test_listings_show_only_what_the_caller_may_read(
    world: ProdWorld, outsiders: dict[str, Client], connector: Connector
) -> None:
    wrong: list[str] = []
    for name, client in outsiders.items():
        ws = OUTSIDERS[name][1]
        if ws != "w":
            # Another workspace: nothing of w exists for it.
            for probe in (
                lambda c=client: c.get_workspace("w"),
                lambda c=client: c.list_endpoints(workspace="w"),
                lambda c=client: c.get_model("churn", workspace="w"),
                lambda c=client: c.lineage(f"artifact:{world.artifact}", workspace="w"),
            ):
                try:
                    probe()
                    wrong.append(f"{name}: sees workspace w")
                except (NotFound, PermissionDenied):
                    pass
            continue
        info = client.get_workspace("w")
        urls = {e.name: [d.url for d in e.datastores] for e in info.environments}
        if urls["prod"] != [""] or not urls["dev"][0]:
            wrong.append(f"{name}: datastore URLs {urls}")
        if [e.environment for e in client.list_endpoints(workspace="w")]:
            wrong.append(f"{name}: lists the prod endpoint")
        try:
            client.get_endpoint("scoring", workspace="w", environment="prod")
            wrong.append(f"{name}: reads the prod endpoint")
        except PermissionDenied:
            pass
        try:
            aliases = client.get_model("churn", workspace="w").aliases
            if aliases:
                wrong.append(f"{name}: sees aliases {aliases}")
        except (NotFound, PermissionDenied):
            pass
        for entity in (
            f"artifact:{world.artifact}",
            f"model:churn/{1}",
            "dataset:prod/customers@v1",
        ):
            try:
                client.lineage(entity, workspace="w")
                wrong.append(f"{name}: lineage of {entity}")
            except (NotFound, PermissionDenied):
                pass
        others = [p for p in client.list_principals() if p.name != name]
        if any(p.email for p in others):
            wrong.append(f"{name}: sees e-mails of {[p.name for p in others if p.email]}")
        if "carol" not in {p.name for p in others}:
            wrong.append(f"{name}: does not see the principals of its workspace")
        try:
            client.authorize_invoke("mwt_x", workspace="w", environment="prod")
            wrong.append(f"{name}: may introspect tokens")
        except PermissionDenied:
            pass
    assert not wrong, "\n".join(wrong)

    reader = connector.as_principal(INSIDER[0])
    assert [e.name for e in reader.list_endpoints(workspace="w", environment="prod")] == ["scoring"]
    assert reader.get_model("churn", workspace="w").aliases == {"prod": {"champion": 1}}
    urls = {e.name: [d.url for d in e.datastores] for e in reader.get_workspace("w").environments}
    assert urls["prod"][0] and urls["dev"] == [""]
    graph = reader.lineage(f"model:churn/{1}", workspace="w")
    assert not graph.entity.hidden and graph.entity.id
    everyone = {p.name for p in reader.list_principals()}
    assert "other-scientist" not in everyone and {"carol", "dev-viewer"} <= everyone


def test_lineage_hides_unreadable_nodes_and_keeps_the_graph(
    world: ProdWorld, connector: Connector
) -> None:
    """A dev run that read a dev dataset: the dev viewer sees it, and a prod node next to it
    shows only its kind."""
    admin = world.admin
    admin.act_in("dev")
    frame = pd.DataFrame({"z": [7, 8, 9]})
    admin.register_dataset("shared", frame, workspace="w", environment="dev")
    admin.act_in("prod")
    with admin.start_run("x", workspace="w", environment="prod", snapshot=False) as run:
        admin.load_dataset("dev/shared@v1", workspace="w", run_id=run.id)
    admin.act_in(None)
    viewer = connector.as_principal("dev-viewer")
    graph = viewer.lineage("dataset:dev/shared@v1", workspace="w")
    assert [(n.kind, n.hidden, n.id, n.label) for n in graph.descendants] == [
        ("run", True, "", "run (not readable)")
    ]


@pytest.mark.parametrize("backend", ["http"])
def test_raw_routes_follow_the_same_rules(world: ProdWorld, connector: Connector) -> None:
    url = connector.url
    for name in OUTSIDERS:
        token = connector.local_admin.create_token(principal=name, name="raw").secret
        auth = {"Authorization": f"Bearer {token}"}
        for digest in (world.artifact, world.manifest, world.model_file):
            r = httpx.get(f"{url}/api/v1/objects/artifacts/{digest}", headers=auth)
            assert r.status_code == 404, (name, r.text)
        r = httpx.get(
            f"{url}/api/v1/objects/datastores/w/prod/store/{world.dataset_digest}",
            headers={**auth, "X-Modelwright-Environment": "prod"},
        )
        assert r.status_code in (403, 404), (name, r.text)
        r = httpx.get(f"{url}{ops.LIST_PRINCIPALS.path}", headers=auth)
        assert r.status_code == 200
        assert all(not p["email"] for p in r.json()["items"] if p["name"] != name)


def test_errors_of_every_probe_are_platform_errors(
    world: ProdWorld, outsiders: dict[str, Client]
) -> None:
    """No probe above may surface as anything but a typed platform error (never a 500)."""
    client = outsiders["dev-scientist"]
    with pytest.raises(ModelwrightError) as info:
        client.call(
            tr_ops.LOG_ARTIFACTS,
            run_id=_own_run(client, "dev-scientist"),
            artifacts=[{"path": "x", "digest": "0" * 64, "size": 1}],
        )
    assert info.value.status == 400
