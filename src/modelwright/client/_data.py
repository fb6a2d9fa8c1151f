"""Datasets in the client: reading versions (downloaded whole or in part, packs unpacked,
files linked from a local datastore where one is) and browsing them; registering is in
``_data_register``."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from modelwright.api import data as ops
from modelwright.client._cache import Stamps, cache_dir
from modelwright.core.pages import PagedList
from modelwright.data import models as dm
from modelwright.data._packs import unpack
from modelwright.data.diff import DatasetDiff
from modelwright.data.manifest import ManifestEntry, load_manifest
from modelwright.data.tabular import (
    TABULAR,
    file_suffix,
    load_frame,
)
from modelwright.errors import (
    InvalidInput,
)
from modelwright.objects.models import ObjectScope

if TYPE_CHECKING:
    import pandas as pd
from modelwright.client._data_register import LoadAs, RegisterMixin
from modelwright.client._local_store import link_or_copy
from modelwright.client._progress import Meter, Progress

__all__ = ["DataMixin", "LoadAs", "Progress"]


class DataMixin(RegisterMixin):
    """The dataset methods of ``Client``."""

    # -- reading ------------------------------------------------------------------------------
    def load_dataset(
        self,
        ref: str,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        run_id: str | None = None,
        as_: LoadAs = "auto",
        progress: Progress | None = None,
    ) -> pd.DataFrame | Path:
        """``load_dataset("churn@v3")``, ``"churn@latest"``, ``"churn"``, or with another
        environment of the workspace: ``"prod/churn@v2"``.

        Tabular versions (Parquet, CSV, TSV, JSON lines, DataFrames) come back as a pandas
        DataFrame; anything else as the path of a verified local copy (in the download
        cache: treat it as read-only). ``as_`` forces one or the other. With ``run_id``
        (default environment: the run's) the read is checked against data isolation and
        recorded as the run's input.
        """
        if as_ not in ("auto", "dataframe", "path"):
            raise InvalidInput(
                f"as_: expected 'auto', 'dataframe' or 'path' (got {as_!r})",
                details={"field": "as_"},
            )
        env_part, slash, rest = ref.rpartition("/")
        if slash:
            if environment and environment != env_part:
                raise InvalidInput(
                    f"ref: names environment '{env_part}' but environment='{environment}'",
                    details={"field": "ref"},
                )
            environment = env_part
        name, version = dm.parse_ref(rest, "ref")
        ws, env = self._where(workspace, environment, run_id)
        info = self.call(
            ops.LOAD_DATASET,
            workspace=ws,
            environment=env,
            name=name,
            version=dm.LATEST if version is None else str(version),
            run_id=run_id,
        )
        # A read checked under a run acts from the run's environment (the check passed), so
        # the bytes are fetched as from the dataset's own; otherwise as the client acts.
        acting = f"{info.workspace}/{info.environment}" if run_id else None
        path = self._download(info, Meter(progress), acting)
        tabular = info.kind == "dataframe" or info.format in TABULAR
        if as_ == "path" or (as_ == "auto" and not tabular):
            return path
        if not tabular:
            raise InvalidInput(
                f"as_: {info.ref} is {info.format} data, not a table; load it with as_='path'",
                details={"field": "as_"},
            )
        return load_frame(path, info.kind, info.format)

    def _download(
        self, info: dm.DatasetVersionInfo, meter: Meter, acting: str | None = None
    ) -> Path:
        """A verified copy in the download cache (kept: the same digest is not fetched twice,
        and a kept copy is served only while it holds the verified bytes; see ``_cache``)."""
        root = cache_dir(self.transport) / "datasets" / info.digest
        scope = ObjectScope.in_datastore(info.workspace, info.environment, info.datastore)
        stamps = Stamps(root)
        if info.kind != "directory":
            key = f"{info.name}{file_suffix(info.format)}"
            dest = root / key
            if dest.is_file() and stamps.verified(key, info.digest):
                stamps.save()
                return dest
            dest.unlink(missing_ok=True)  # not the verified bytes: fetched (and checked) anew
            meter.start("store", info.size)
            self._getter(scope, acting)(info.digest, dest)
            meter.add(info.size)
            stamps.record(key, dest, info.digest)
            stamps.save()
            return dest
        return self._download_dir(info, scope, root, stamps, meter, acting)

    def _download_dir(  # noqa: PLR0917
        self,
        info: dm.DatasetVersionInfo,
        scope: ObjectScope,
        root: Path,
        stamps: Stamps,
        meter: Meter,
        acting: str | None,
    ) -> Path:
        dest = root / info.name
        if dest.is_dir():
            # Directories appear whole (renamed into place), their stamps written first.
            kept = stamps.under(info.name)
            if kept and all(stamps.verified(k, d) for k, d in kept.items()):
                stamps.save()
                return dest
            shutil.rmtree(dest, ignore_errors=True)
        entries = load_manifest(self.transport.get_object(scope, info.digest, acting=acting))
        tmp = root / f".{info.name}.{uuid.uuid4().hex}.part"
        get = self._getter(scope, acting)
        open_pack = self._pack_opener(scope, tmp / ".packs", acting)
        packs: dict[str, list[ManifestEntry]] = {}
        for e in entries:
            if e.pack is not None:
                packs.setdefault(e.pack, []).append(e)
        meter.start("store", info.size)

        def fetch(e: ManifestEntry) -> None:
            get(e.digest, tmp / e.path)
            meter.add(e.size)

        def fetch_pack(pack: str) -> None:
            with open_pack(pack) as f:
                for e, data in unpack(f, pack, packs[pack]):  # each file verified
                    dest = tmp / e.path
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data)
                    meter.add(e.size)

        try:
            with ThreadPoolExecutor(8, thread_name_prefix="mw-get") as pool:
                for _ in pool.map(fetch, [e for e in entries if e.pack is None]):
                    pass
                for _ in pool.map(fetch_pack, packs):
                    pass
            shutil.rmtree(tmp / ".packs", ignore_errors=True)
            for e in entries:  # each was verified as it was fetched or unpacked
                stamps.record(f"{info.name}/{e.path}", tmp / e.path, e.digest)
            stamps.save()
            try:
                tmp.rename(dest)
            except OSError:
                if not dest.is_dir():
                    raise  # else another process finished the same download first
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return dest

    def _getter(self, scope: ObjectScope, acting: str | None) -> Callable[[str, Path], object]:
        # Embedded: one permission check for the whole directory, not a transaction per file.
        store = self.transport.open_store(scope, write=False, acting=acting)
        if store is not None:

            def get_local(digest: str, dest: Path) -> object:
                dest.parent.mkdir(parents=True, exist_ok=True)
                return link_or_copy(store, digest, dest)

            return get_local
        transport = self.transport
        return lambda digest, dest: transport.get_object_file(scope, digest, dest, acting=acting)

    def _pack_opener(
        self, scope: ObjectScope, downloads: Path, acting: str | None
    ) -> Callable[[str], AbstractContextManager[IO[bytes]]]:
        """Opens a pack to read files from: in place when embedded, else a verified copy."""
        store = self.transport.open_store(scope, write=False, acting=acting)
        if store is not None:
            return store.open
        transport = self.transport

        @contextmanager
        def fetched(pack: str) -> Iterator[IO[bytes]]:
            path = downloads / pack
            transport.get_object_file(scope, pack, path, acting=acting)
            try:
                with path.open("rb") as f:
                    yield f
            finally:
                path.unlink(missing_ok=True)

        return fetched

    # -- browsing -----------------------------------------------------------------------------
    def list_datasets(
        self,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[dm.DatasetInfo]:
        """Datasets with their latest version, in every environment you may read (or one):
        all of them, or one page with ``page_token``/``limit``."""
        return self.call_pages(
            ops.LIST_DATASETS,
            page_token=page_token,
            limit=limit,
            workspace=self.resolve_workspace(workspace),
            environment=environment,
        )

    def get_dataset(
        self, name: str, *, workspace: str | None = None, environment: str | None = None
    ) -> dm.DatasetDetail:
        """A dataset with the history of its versions."""
        ws, env = self._where(workspace, environment, None)
        return self.call(ops.GET_DATASET, workspace=ws, environment=env, name=name)

    def dataset_versions(
        self, name: str, *, workspace: str | None = None, environment: str | None = None
    ) -> list[dm.DatasetVersionSummary]:
        return self.get_dataset(name, workspace=workspace, environment=environment).history

    def get_dataset_version(
        self, ref: str, *, workspace: str | None = None, environment: str | None = None
    ) -> dm.DatasetVersionInfo:
        """One version (``name@v3``, ``name@latest``, ``name``, or ``prod/name@v3``) with its
        schema and profile."""
        return self.call(ops.GET_DATASET_VERSION, **self._version_ref(ref, workspace, environment))

    def _version_ref(
        self, ref: str, workspace: str | None, environment: str | None
    ) -> dict[str, str]:
        """The fields naming a version: ``[env/]name[@version]`` within the defaults."""
        env_part, slash, rest = ref.rpartition("/")
        if slash:
            environment, ref = environment or env_part, rest
        name, version = dm.parse_ref(ref, "ref")
        ws, env = self._where(workspace, environment, None)
        return {
            "workspace": ws,
            "environment": env,
            "name": name,
            "version": dm.LATEST if version is None else str(version),
        }

    def copy_dataset(
        self,
        ref: str,
        *,
        to_environment: str,
        reason: str,
        workspace: str | None = None,
        environment: str | None = None,
        to_workspace: str | None = None,
        to_datastore: str | None = None,
        to_name: str | None = None,
    ) -> dm.DatasetVersionInfo:
        """Copy a version (``prod/customers@v3``) into ``to_environment`` as a new version, the
        bytes moved by the server: needs read access to both and write access to the target.
        The one way production data may leave production, audited with ``reason``."""
        return self.call(
            ops.COPY_DATASET,
            **self._version_ref(ref, workspace, environment),
            to_workspace=to_workspace,
            to_environment=to_environment,
            to_datastore=to_datastore,
            to_name=to_name,
            reason=reason,
        )

    def diff_datasets(
        self, a: str, b: str, *, workspace: str | None = None, environment: str | None = None
    ) -> DatasetDiff:
        """Schema and profile differences from ``a`` to ``b`` (``name@v1``, ``name@v2``)."""
        ws, env = self._where(workspace, environment, None)
        return self.call(ops.DIFF_DATASETS, workspace=ws, environment=env, a=a, b=b)
