"""A schema fuzz of the whole REST API: schemathesis generates requests from the OpenAPI
document for every operation (its examples, boundary and invalid values of every field, then
random ones) and every answer must be declared there (status, content type, body schema,
headers), and never be a server error.

It runs three ways, since what an answer says depends on who asks: as an admin, as a data
scientist granted in one environment only, and without a token. Path parameters name the
things seeded below most of the time, so that requests also get past "not found". The
operations that end or delete things run on a fresh platform of their own, so that they take
nothing away from the others. Generation is deterministic and the examples per operation few,
which keeps the whole fuzz within a couple of minutes on two cores.

SQLite only: the fuzz looks for answers the document does not declare, which do not depend
on the database; what PostgreSQL refuses that SQLite takes (NUL characters, integers past
32 bits in Integer columns) has tests of its own on both (test_storable_values.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import FatalError, NonFatalError, ScenarioFinished
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update
from tests.conftest import LiveServer
from tests.registry.conftest import Doubler

from modelwright.client import Client, LocalTransport
from modelwright.core.platform import Platform
from modelwright.store import schema as tables

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Fuzzed on a platform of their own: they end the running run or take away what the other
# operations are fuzzed against.
ENDINGS = r"^(delete_.*|revoke_token|apply_platform|end_run|kill_run|record_pipeline_run|undeploy|abort_rollout|reject_promotion)$"


@pytest.fixture
def db() -> str:
    return "sqlite"


@dataclass(frozen=True)
class Seeded:
    """What the fuzz finds in place, and the tokens it fuzzes with."""

    admin_token: str
    scoped_token: str
    path: dict[str, str]


@pytest.fixture
def seeded(platform: Platform, tmp_path: Path) -> Seeded:
    """A workspace with a datastore, a running run with a param, a metric, an artifact, a
    dataset and a model version (aliased and deployed), and a data scientist of dev."""
    frame = pd.DataFrame({"tenure": [0.5, 1.5, 2.5]})
    (tmp_path / "notes.txt").write_text("seeded")
    with Client(LocalTransport(platform)) as admin:
        admin.create_workspace("w")
        admin.create_datastore("w", "dev", "lake", "memory://fuzz-lake")
        admin.create_principal("ds")
        admin.grant("ds", "data-scientist", workspace="w", environment="dev")
        # Left running, so that logging to it gets past "the run has ended".
        run = admin.start_run("exp", workspace="w", environment="dev", tags={"t": "1"})
        run.log_param("depth", 3)
        run.log_metric("loss", 0.5)
        run.flush()
        (artifact,) = run.log_artifact(tmp_path / "notes.txt")
        # One name for both, so that a fuzzed "{name}" finds a dataset and a model.
        admin.register_dataset("m", frame, workspace="w", run_id=run.id)
        run.log_model(Doubler(), "m", input_example=frame)
        admin.set_alias("m", "champion", 1, workspace="w", environment="dev")
        admin.create_endpoint("e", workspace="w", environment="dev")
        admin.deploy("e", "blue", "m", 1, workspace="w", environment="dev")
        # Token ids are sequential and generated ids small: the fuzzing tokens get ids far
        # from them, so that revoking "token 1" does not end the fuzz.
        far = admin.create_token(name="far")
        with platform.engine.begin() as conn:
            conn.execute(update(tables.Token).where(tables.Token.id == far.id).values(id=10**6))
        return Seeded(
            admin_token=admin.create_token(name="fuzz-admin").secret,
            scoped_token=admin.create_token(principal="ds", name="fuzz-ds").secret,
            path={
                "workspace": "w",
                "environment": "dev",
                "datastore": "lake",
                "run_id": run.id,
                "key": "loss",
                "name": "m",
                "version": "1",
                "alias": "champion",
                "endpoint": "e",
                "deployment": "blue",
                "principal": "ds",
                "digest": artifact.digest,
            },
        )


def _config(token: str | None, seeded: Seeded) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {token}"} if token else {},
            "generation": {"max-examples": 10, "deterministic": True, "allow-x00": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {"enabled": False, **{c.__name__: {"enabled": True} for c in CHECKS}},
            # One worker: the machine's cores are shared with the server under test.
            "workers": 1,
            # Largest bodies (5,000 pipeline nodes) take seconds on a busy 2-core machine;
            # a slow answer is not what this test looks for (benchmarks measure speed).
            "request-timeout": 60,
            # No crash cache in the working tree: every run starts from the same state.
            "cache": {"enabled": False},
            "dictionaries": {name: {"values": [value]} for name, value in seeded.path.items()},
            "parameters": {
                f"path.{name}": {"dictionary": name, "probability": 0.7} for name in seeded.path
            },
        }
    )


def _fuzz(server: LiveServer, token: str | None, seeded: Seeded, endings: bool) -> list[str]:
    """Every failure of every operation, each with a curl command that reproduces it.

    Run by schemathesis's engine (what its command line runs), in process: its pytest
    integration does not run on this pytest version."""
    schema = schemathesis.openapi.from_url(
        f"{server.url}/openapi.json", config=_config(token, seeded)
    )
    schema = (schema.include if endings else schema.exclude)(operation_id_regex=ENDINGS)
    # A stream answers for as long as the caller listens, so it is not a request for this
    # fuzzer to wait out; tests/server/test_events_stream.py reads it.
    schema = schema.exclude(operation_id_regex="^stream_events$")
    failures: list[str] = []
    tested = 0
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished):
            tested += event.status is not Status.SKIP
            failures += [
                f"{event.label}: {check.failure_info.failure.title}\n"
                f"{check.failure_info.failure}\n{check.failure_info.code_sample}"
                for checks in event.recorder.checks.values()
                for check in checks
                if check.failure_info is not None
            ]
        elif isinstance(event, NonFatalError):
            failures.append(f"{event.label}: {event.info.title}\n{event.info}")
        elif isinstance(event, FatalError):
            raise event.exception
    assert tested, "nothing was fuzzed"
    return failures


CALLERS = ("admin", "data scientist of dev", "no token")


@pytest.mark.parametrize("endings", [False, True], ids=["operations", "endings and deletions"])
@pytest.mark.parametrize("caller", CALLERS)
def test_every_answer_is_one_the_document_declares(
    server: LiveServer, seeded: Seeded, caller: str, endings: bool
) -> None:
    token = {"admin": seeded.admin_token, "data scientist of dev": seeded.scoped_token}
    failures = _fuzz(server, token.get(caller), seeded, endings)
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:20])
