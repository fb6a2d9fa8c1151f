"""Datastore URLs are not a way out: the server opens them, so they stay under the roots its
operator allowed, away from the platform's own files and from every other datastore."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from tests.conftest import Connector

from modelwright import InvalidInput
from modelwright.client import Client
from modelwright.settings import Settings
from modelwright.workspaces.models import DatastoreSpec

Unchanged = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def admin(client: Client) -> Client:
    client.create_workspace("w")
    client.create_workspace("other")
    return client


def _refused(client: Client, unchanged: Unchanged, url: str, match: str, ws: str = "w") -> None:
    with unchanged(), pytest.raises(InvalidInput, match=match) as info:
        client.create_datastore(ws, "dev", "escape", url)
    assert info.value.details["field"] == "url"


def test_urls_outside_the_allowed_roots_are_refused(
    admin: Client, unchanged: Unchanged, tmp_path: Path
) -> None:
    outside = "outside the datastore roots this platform allows"
    for url in (
        "http://127.0.0.1:9999/x",  # the server would fetch it: never unless allowed
        "https://example.com/data",
        "ftp://example.com/data",
        "/etc",
        "file:///var/lib",
        str(tmp_path.parent / "elsewhere"),
    ):
        _refused(admin, unchanged, url, outside)
    _refused(admin, unchanged, "data/lake", "must be an absolute path or a URL")
    _refused(admin, unchanged, "./lake", "working directory")
    _refused(admin, unchanged, f"{tmp_path}/lake/../../x", "must not contain '..'")
    # A symbolic link inside a root that leads outside it is followed, and refused.
    link = tmp_path / "link"
    os.symlink("/etc", link)
    _refused(admin, unchanged, str(link / "sub"), outside)
    # Inside a root: allowed, locally and under an allowed URL prefix.
    assert admin.create_datastore("w", "dev", "lake", str(tmp_path / "lake")).name == "lake"
    assert admin.create_datastore("w", "dev", "mem", "memory://w/dev").name == "mem"


def test_the_platforms_own_files_are_never_a_datastore(
    admin: Client, unchanged: Unchanged, settings: Settings
) -> None:
    artifacts = settings.artifacts_url
    _refused(admin, unchanged, artifacts, "the platform's artifact store")
    _refused(admin, unchanged, f"{artifacts}/objects", "the platform's artifact store")
    # A datastore around the artifact store would reach it too.
    _refused(admin, unchanged, str(Path(artifacts).parent), "the platform's artifact store")


def test_a_datastore_never_overlaps_another_environments_or_workspaces(
    admin: Client, unchanged: Unchanged, tmp_path: Path
) -> None:
    vault = tmp_path / "vault"
    admin.create_datastore("w", "prod", "vault", str(vault), classification="production")
    overlaps = "overlaps the location of datastore w/prod/vault"
    for url in (str(vault), f"{vault}/", str(vault / "inner"), f"file://{vault}"):
        _refused(admin, unchanged, url, overlaps)
        _refused(admin, unchanged, url, overlaps, ws="other")
    # A sibling whose name only starts the same is another place.
    assert admin.create_datastore("other", "dev", "v2", f"{vault}2").name == "v2"


def test_a_workspace_admin_cannot_reach_another_workspace_through_a_datastore(
    admin: Client, connector: Connector, unchanged: Unchanged, tmp_path: Path
) -> None:
    theirs = tmp_path / "theirs"
    admin.create_datastore("other", "dev", "lake", str(theirs))
    connector.local_admin.create_principal("wadmin")
    connector.local_admin.grant("wadmin", "admin", "w", "*")
    me = connector.as_principal("wadmin")
    _refused(
        me, unchanged, str(theirs / "sub"), "overlaps the location of datastore other/dev/lake"
    )
    _refused(me, unchanged, "http://169.254.169.254/latest", "outside the datastore roots")
    assert me.create_datastore("w", "dev", "mine", str(tmp_path / "mine")).name == "mine"


def test_apply_checks_datastore_urls_too(
    admin: Client, unchanged: Unchanged, tmp_path: Path
) -> None:
    spec = admin.export()
    spec.workspaces[0].environments[0].datastores.append(DatastoreSpec(name="escape", url="/etc"))
    with unchanged(), pytest.raises(InvalidInput, match="outside the datastore roots"):
        admin.apply(spec)


def test_the_roots_come_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELWRIGHT_DATASTORE_ROOTS", "/data/a, s3://bucket/p")
    assert Settings().datastore_roots == ["/data/a", "s3://bucket/p"]
    monkeypatch.setenv("MODELWRIGHT_DATASTORE_ROOTS", '["/data/b", "gs://x"]')
    assert Settings().allowed_datastore_roots == ["/data/b", "gs://x"]
    monkeypatch.delenv("MODELWRIGHT_DATASTORE_ROOTS")
    assert Settings(home=tmp_path).allowed_datastore_roots == [str(tmp_path / "data")]
