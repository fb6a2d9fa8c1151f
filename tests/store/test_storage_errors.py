"""A store that cannot keep bytes says so: a full disk (ENOSPC) or a read-only one (EROFS) is
a ``StorageError`` (code ``storage_error``, HTTP 507) naming the store, on both backends and
databases, never ``internal`` or a raw ``OSError``. The failures are real: a small tmpfs
that fills up, and a read-only bind mount (tests run as root, so permissions alone would
not stop a write); without the right to mount, the tests are skipped."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from tests.conftest import LiveServer

from modelwright.client import Client, HttpTransport, LocalTransport
from modelwright.core.platform import Platform
from modelwright.errors import StorageError
from modelwright.settings import Settings


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()[:120]})")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextmanager
def _small_disk(path: Path, kib: int) -> Iterator[Path]:
    """``path`` on a filesystem of its own of ``kib`` KiB."""
    path.mkdir()
    _mount("-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with _small_disk(tmp_path / "small", 512) as path:
        yield path


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory mounted read-only (on top of itself)."""
    path = tmp_path / "frozen"
    path.mkdir()
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
    except BaseException:
        _unmount(path)
        raise
    yield path
    _unmount(path)


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1024 * 1024))
    return path


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def test_a_full_datastore_is_a_storage_error_naming_it(
    client: Client, ws: str, small_disk: Path, big_file: Path
) -> None:
    client.create_datastore(ws, "dev", "small", str(small_disk))
    with pytest.raises(StorageError, match=r"datastore ml/dev/small .*no space is left") as caught:
        client.register_dataset("big", big_file, workspace=ws, datastore="small")
    assert caught.value.details["reason"] == "full"
    assert client.list_datasets(workspace=ws) == []  # nothing was registered


def test_a_read_only_datastore_is_a_storage_error_naming_it(
    client: Client, ws: str, read_only_dir: Path, big_file: Path
) -> None:
    client.create_datastore(ws, "dev", "frozen", str(read_only_dir))
    with pytest.raises(StorageError, match=r"datastore ml/dev/frozen .*read-only") as caught:
        client.register_dataset("big", big_file, workspace=ws, datastore="frozen")
    assert caught.value.details["reason"] == "read-only"


@pytest.mark.parametrize("kind", ["local", "http"])
def test_a_full_artifact_store_is_a_storage_error_naming_it(
    settings: Settings, small_disk: Path, big_file: Path, kind: str
) -> None:
    platform = Platform(settings.model_copy(update={"artifact_url": str(small_disk)}))
    with LiveServer(platform) as server:
        local = Client(LocalTransport(platform))
        client = local
        if kind == "http":
            token = local.create_token(name="t").secret
            client = Client(HttpTransport(server.url, token=token))
        client.create_workspace("ml")
        run = client.start_run("x", workspace="ml")
        with pytest.raises(StorageError, match=r"the artifact store .*no space is left"):
            run.log_artifact(big_file)
        run.end()
        assert client.get_run(run.id).artifacts == []
        if client is not local:
            client.close()
    local.close()  # and its platform


def test_a_full_metadata_database_is_a_storage_error_raised_by_the_logging_run(
    db: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db != "sqlite":
        pytest.skip("the embedded database is a file on the small disk")
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "0.05")
    database = settings.home / "modelwright.db"
    room = database.stat().st_size // 1024 + 512  # the database, and half a MiB to grow
    with ExitStack() as stack:
        home = stack.enter_context(_small_disk(tmp_path / "home-on-small-disk", room))
        shutil.copyfile(database, home / "modelwright.db")
        client = Client(LocalTransport(Platform(settings.model_copy(update={"home": home}))))
        stack.callback(client.close)
        _fill_the_database(client)


def _fill_the_database(client: Client) -> None:
    client.create_workspace("ml")
    run = client.start_run("x", workspace="ml", snapshot=False)

    def log_more_than_fits() -> None:
        for i in range(200_000):
            run.log_metric("m", float(i), step=i)
        run.end()

    with pytest.raises(StorageError, match=r"metadata database .*no space is left"):
        log_more_than_fits()
