"""The variables the SDK and the CLI read go through ``ClientSettings``: same names, read when
used, and a bad value is an error naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelwright.client import HttpTransport, connect
from modelwright.client._cache import cache_dir
from modelwright.errors import InvalidInput
from modelwright.settings import ClientSettings, client_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for field in ClientSettings.model_fields:
        monkeypatch.delenv(f"MODELWRIGHT_{field.upper()}", raising=False)


def test_the_variables_are_read_when_used_and_an_empty_one_counts_as_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert client_settings().workspace is None
    monkeypatch.setenv("MODELWRIGHT_WORKSPACE", "ml")
    monkeypatch.setenv("MODELWRIGHT_ENVIRONMENT", "")
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "0.25")
    settings = client_settings()
    assert (settings.workspace, settings.environment, settings.flush_interval) == ("ml", None, 0.25)


def test_a_bad_value_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with connect(tmp_path / "home") as client:
        monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "soon")
        with pytest.raises(InvalidInput, match=r"^MODELWRIGHT_FLUSH_INTERVAL: .*number.*'soon'"):
            client_settings()
        with pytest.raises(InvalidInput) as caught:
            client.start_run("train")
    assert caught.value.details == {"variable": "MODELWRIGHT_FLUSH_INTERVAL"}


def test_the_cache_is_beside_an_embedded_platform_unless_a_variable_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with connect(tmp_path / "home") as client:
        assert cache_dir(client.transport) == (tmp_path / "home").resolve() / "cache"
        monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(tmp_path / "elsewhere"))
        assert cache_dir(client.transport) == tmp_path / "elsewhere"


def test_a_remote_client_caches_in_the_users_cache_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    transport = HttpTransport("http://127.0.0.1:9")  # never contacted
    try:
        assert cache_dir(transport) == tmp_path / "xdg" / "modelwright"
    finally:
        transport.close()
