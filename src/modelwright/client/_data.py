"""Datasets in the client: hash and move the bytes here, then one operation records a version.

Registering a file or directory: stat every file; take digests of unchanged files from the
local hash cache; ask the service which objects the datastore lacks (which also checks
permissions and data isolation before any byte moves); store only those; record the
version. Embedded, files are copied straight into the datastore, hashed on the way, with one
durability barrier per batch; over HTTP they are hashed on a thread pool, then uploaded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from modelwright.api import data as ops
from modelwright.client._cache import Stamps, cache_dir
from modelwright.client._tracking import TrackingMixin
from modelwright.core.names import check_name
from modelwright.data import models as dm
from modelwright.data._bulk import local_root, put_files
from modelwright.data._packs import PACK_FILE_MAX, Location, pack_files, unpack
from modelwright.data.diff import DatasetDiff
from modelwright.data.hashing import HashCache, LocalFile, hash_files, scan
from modelwright.data.manifest import ManifestEntry, dump_manifest, load_manifest, objects_of
from modelwright.data.tabular import (
    TABULAR,
    dataframe_to_parquet,
    file_suffix,
    format_of,
    format_of_files,
    load_frame,
)
from modelwright.errors import (
    ArtifactCorrupted,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from modelwright.objects.models import ObjectScope
from modelwright.store._artifacts_layout import object_key
from modelwright.store.artifacts import ArtifactStore, location_of, storage_errors

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DataMixin", "Progress"]


# progress(phase, done_bytes, total_bytes); phase is "hash" (reading to hash) or "store"
# (copying into the datastore or uploading). Called from worker threads, serialised.
Progress = Callable[[str, int, int], None]
LoadAs = Literal["auto", "dataframe", "path"]
_UPLOADS = 4  # concurrent uploads over HTTP


class _Meter:
    """Adds up bytes from many threads and reports them a few hundred times at most."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.phase = ""
        self.done = 0
        self.total = 0
        self._step = 1
        self._next = 0

    def start(self, phase: str, total: int) -> None:
        with self._lock:
            self.phase, self.done, self.total = phase, 0, total
            self._step = max(1, total // 500)
            self._next = self._step
        if self._progress is not None:
            self._progress(phase, 0, total)

    def add(self, n: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self.done += n
            if self.done < self._next and self.done < self.total:
                return
            self._next = self.done + self._step
            self._progress(self.phase, self.done, self.total)


@contextmanager
def _source_errors(root: str) -> Iterator[None]:
    """A source file that vanishes or turns unreadable mid-way is bad input, not a crash."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None or not str(exc.filename).startswith(root):
            raise
        raise InvalidInput(
            f"source: cannot read '{exc.filename}': {exc.strerror} (did it change while it "
            "was being registered?)",
            details={"field": "source", "path": str(exc.filename)},
        ) from None


class DataMixin(TrackingMixin):
    """The dataset methods of ``Client``."""

    # -- registering --------------------------------------------------------------------------
    def register_dataset(
        self,
        name: str,
        source: str | os.PathLike[str] | pd.DataFrame,
        *,
        workspace: str | None = None,
        environment: str | None = None,
        datastore: str | None = None,
        description: str = "",
        run_id: str | None = None,
        format: str | None = None,
        progress: Progress | None = None,
    ) -> dm.DatasetVersionInfo:
        """Register a file, a directory or a pandas DataFrame as the next version of ``name``.

        The bytes go to a datastore of the environment (``datastore``, or its only one),
        stored once by sha256. Registering the same content as the latest version returns
        that version (``created`` is False). With ``run_id`` (default environment: the
        run's) the version is recorded as the run's output. ``format`` overrides the one
        the file names suggest (``parquet``, ``csv``, ``tsv``, ``json`` lines, ``binary``).
        """
        check_name(name, "name")
        if not isinstance(source, str | os.PathLike):
            return self._register_frame(
                name,
                source,
                workspace=workspace,
                environment=environment,
                datastore=datastore,
                description=description,
                run_id=run_id,
            )
        path = Path(source)
        files = scan(path)  # before any request: a missing source changes nothing anywhere
        ws, env = self._where(workspace, environment, run_id)
        kind: dm.Kind = "directory" if path.is_dir() else "file"
        fmt = format or (
            format_of(files[0].rel) if kind == "file" else format_of_files(f.rel for f in files)
        )
        meter = _Meter(progress)
        with (
            HashCache(cache_dir(self.transport) / "hashes.sqlite") as cache,
            _source_errors(files[0].path if kind == "file" else str(path.absolute())),
        ):
            known = cache.lookup(files)
            # Asked before any byte is read, so that a refusal does not wait for gigabytes.
            store_name, placed = self._placements(
                ws=ws,
                env=env,
                name=name,
                datastore=datastore,
                run_id=run_id,
                known=known,
                directory=kind == "directory",
            )
            scope = ObjectScope.in_datastore(ws, env, store_name)
            target = self.transport.open_store(scope, write=True)
            if target is not None:
                entries, fresh = _store_local(
                    target, scope, files, known=known, placed=placed, meter=meter
                )
            else:
                entries, fresh = self._upload(
                    ws=ws,
                    env=env,
                    name=name,
                    run_id=run_id,
                    scope=scope,
                    files=files,
                    known=known,
                    placed=placed,
                    meter=meter,
                )
            cache.remember(fresh)
        if kind == "file":
            digest = entries[0].digest
        else:
            digest = self.transport.put_object(scope, dump_manifest(entries))
        return self.call(
            ops.REGISTER_DATASET,
            workspace=ws,
            environment=env,
            name=name,
            datastore=store_name,
            kind=kind,
            format=fmt,
            digest=digest,
            description=description,
            run_id=run_id,
        )

    def _register_frame(
        self,
        name: str,
        frame: Any,
        *,
        workspace: str | None,
        environment: str | None,
        datastore: str | None,
        description: str,
        run_id: str | None,
    ) -> dm.DatasetVersionInfo:
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(
                "source: expected a file or directory path or a pandas DataFrame, got "
                f"{type(frame).__name__}",
                details={"field": "source"},
            )
        data = dataframe_to_parquet(frame)  # refuses unsupported columns before any request
        ws, env = self._where(workspace, environment, run_id)
        digest = hashlib.sha256(data).hexdigest()
        plan = self._prepare(
            ws=ws, env=env, name=name, datastore=datastore, run_id=run_id, digests=[digest]
        )
        if plan.missing:
            self.transport.put_object(ObjectScope.in_datastore(ws, env, plan.datastore), data)
        return self.call(
            ops.REGISTER_DATASET,
            workspace=ws,
            environment=env,
            name=name,
            datastore=plan.datastore,
            kind="dataframe",
            format="parquet",
            digest=digest,
            description=description,
            run_id=run_id,
        )

    def _where(
        self, workspace: str | None, environment: str | None, run_id: str | None
    ) -> tuple[str, str]:
        if run_id and not (workspace and environment):
            run = self.get_run(run_id)
            return workspace or run.workspace, environment or run.environment
        ws = self.resolve_workspace(workspace)
        return ws, self.resolve_environment(ws, environment)

    def _prepare(
        self,
        *,
        ws: str,
        env: str,
        name: str,
        datastore: str | None,
        run_id: str | None,
        digests: Sequence[str],
    ) -> dm.UploadPlan:
        unique = list(dict.fromkeys(digests))
        step = dm.MAX_DIGESTS
        chunks = [unique[i : i + step] for i in range(0, len(unique), step)] or [[]]
        plans = [
            self.call(
                ops.PREPARE_DATASET_UPLOAD,
                workspace=ws,
                environment=env,
                name=name,
                datastore=datastore,
                run_id=run_id,
                digests=chunk,
            )
            for chunk in chunks
        ]
        return dm.UploadPlan(
            datastore=plans[0].datastore, missing=[d for p in plans for d in p.missing]
        )

    def _prior(
        self, ws: str, env: str, name: str, datastore: str
    ) -> tuple[str, list[ManifestEntry]] | None:
        """The datastore and files of the latest version of a directory dataset, if any: where
        its bytes are is reused, so that unchanged files are neither read nor stored again."""
        try:
            info = self.call(
                ops.GET_DATASET_VERSION, workspace=ws, environment=env, name=name, version=dm.LATEST
            )
            if info.kind != "directory" or info.datastore != datastore:
                return None
            data = self.transport.get_object(
                ObjectScope.in_datastore(ws, env, info.datastore), info.digest
            )
            return info.datastore, load_manifest(data)
        except (NotFound, PermissionDenied, InvalidInput, ArtifactCorrupted):
            return None  # nothing to reuse: every file is stored as new content

    def _placements(
        self,
        *,
        ws: str,
        env: str,
        name: str,
        datastore: str | None,
        run_id: str | None,
        known: dict[str, str],
        directory: bool,
    ) -> tuple[str, dict[str, Location]]:
        """The datastore, and where contents of known digests already are in it.

        The permission and isolation checks come first, before anything is read or moved;
        then, for a directory, the latest version's manifest says where its files are; then
        the datastore says which of the other known contents and which packs it has.
        """
        plan = self._prepare(
            ws=ws, env=env, name=name, datastore=datastore, run_id=run_id, digests=[]
        )
        prior = self._prior(ws, env, name, plan.datastore) if directory else None
        previous = prior[1] if prior else []
        in_prior = {e.digest for e in previous}
        ask = [d for d in known.values() if d not in in_prior] + objects_of(previous)
        if ask:
            plan = self._prepare(
                ws=ws, env=env, name=name, datastore=plan.datastore, run_id=run_id, digests=ask
            )
        missing = set(plan.missing)
        placed: dict[str, Location] = {
            e.digest: (e.pack, e.offset) for e in previous if e.object not in missing
        }
        for d in known.values():
            if d not in missing and d not in in_prior:
                placed.setdefault(d, (None, 0))
        return plan.datastore, placed

    def _upload(
        self,
        *,
        ws: str,
        env: str,
        name: str,
        run_id: str | None,
        scope: ObjectScope,
        files: list[LocalFile],
        known: dict[str, str],
        placed: dict[str, Location],
        meter: _Meter,
    ) -> tuple[list[ManifestEntry], list[tuple[LocalFile, str]]]:
        """Remote: hash what the cache does not know, then upload what the datastore lacks
        (as objects of their own; files already in the datastore are pointed at)."""
        todo = [i for i, f in enumerate(files) if f.path not in known]
        meter.start("hash", sum(files[i].size for i in todo))
        hashed = hash_files([files[i] for i in todo], on_bytes=meter.add)
        digests = [known.get(f.path, "") for f in files]
        for i, digest in zip(todo, hashed, strict=True):
            digests[i] = digest
        missing = [d for d in dict.fromkeys(digests) if d not in placed]
        if missing:
            asked = set(known.values())
            fresh = [d for d in missing if d not in asked]
            missing = [d for d in missing if d in asked]
            if fresh:
                missing += self._prepare(
                    ws=ws,
                    env=env,
                    name=name,
                    datastore=scope.datastore,
                    run_id=run_id,
                    digests=fresh,
                ).missing
        first = {d: files[i] for i, d in reversed(list(enumerate(digests)))}
        send = [(first[d], d) for d in dict.fromkeys(missing)]
        meter.start("store", sum(f.size for f, _ in send))

        def upload(item: tuple[LocalFile, str]) -> None:
            f, digest = item
            self.transport.put_object(scope, Path(f.path), digest=digest, on_bytes=meter.add)

        if len(send) == 1:
            upload(send[0])
        elif send:
            with ThreadPoolExecutor(_UPLOADS, thread_name_prefix="mw-upload") as pool:
                for _ in pool.map(upload, send):
                    pass
        entries = [
            ManifestEntry(f.rel, d, f.size, *placed.get(d, (None, 0)))
            for f, d in zip(files, digests, strict=True)
        ]
        return entries, [(files[i], digests[i]) for i in todo]

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
        path = self._download(info, _Meter(progress), acting)
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
        self, info: dm.DatasetVersionInfo, meter: _Meter, acting: str | None = None
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
        meter: _Meter,
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
        self, *, workspace: str | None = None, environment: str | None = None
    ) -> list[dm.DatasetInfo]:
        """Datasets with their latest version, in every environment you may read (or one)."""
        return self.call(
            ops.LIST_DATASETS,
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


def _store_local(
    store: ArtifactStore,
    scope: ObjectScope,
    files: list[LocalFile],
    *,
    known: dict[str, str],
    placed: dict[str, Location],
    meter: _Meter,
) -> tuple[list[ManifestEntry], list[tuple[LocalFile, str]]]:
    """Embedded: copy what the datastore lacks into it, hashing while copying. The small
    files of a directory go into packs, the others into objects of their own."""
    entries: list[ManifestEntry | None] = [None] * len(files)
    todo = []
    for i, f in enumerate(files):
        digest = known.get(f.path)
        where = placed.get(digest) if digest else None
        if digest and where is not None:
            entries[i] = ManifestEntry(f.rel, digest, f.size, *where)
        else:
            todo.append(i)
    packed = [i for i in todo if len(files) > 1 and files[i].size <= PACK_FILE_MAX]
    alone = [i for i in todo if not (len(files) > 1 and files[i].size <= PACK_FILE_MAX)]
    meter.start("store", sum(files[i].size for i in todo))
    root = local_root(store)
    with storage_errors(scope.describe(), location_of(store)):
        for i, digest in zip(
            alone, put_files(store, [files[i] for i in alone], on_bytes=meter.add), strict=True
        ):
            entries[i] = ManifestEntry(files[i].rel, digest, files[i].size)
        stored = pack_files(
            store,
            [files[i] for i in packed],
            placed=placed,
            exists=_ObjectExists(root) if root else None,
            on_bytes=meter.add,
        )
    for i, p in zip(packed, stored, strict=True):
        entries[i] = ManifestEntry(files[i].rel, p.digest, p.size, p.pack, p.offset)
    done = [e for e in entries if e is not None]
    if len(done) != len(files):
        raise RuntimeError("a file was not stored")
    return done, [(files[i], done[i].digest) for i in todo]


class _ObjectExists:
    """Whether a local store holds an object, asked once per file of a directory: a fan-out
    directory (``objects/sha256/ab``) seen missing is not asked about again, so a new or
    small store costs at most 256 ``stat`` calls, not one per file. Only an optimisation
    (an object stored meanwhile by another process is packed again, never lost)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.missing: set[str] = set()

    def __call__(self, digest: str) -> bool:
        fanout = digest[:2]
        if fanout in self.missing:
            return False
        key = object_key(self.root, digest)
        if os.path.exists(key):
            return True
        if not os.path.isdir(os.path.dirname(key)):
            self.missing.add(fanout)
        return False


def link_or_copy(store: ArtifactStore, digest: str, dest: Path) -> Path:
    """Embedded, a file of a dataset lands in the download cache as a read-only hard link to
    its object, checked against its digest: no bytes are written, which for large inputs is
    most of the cost of reading them (a batch job over a 1 GB table spent more time copying
    it than predicting). Objects never change, so the link is made read-only like them.
    Anywhere linking is not possible (another filesystem, an object store) it is a verified
    copy as before."""
    source = store.local_path(digest)
    if source is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staged = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.link"
        try:
            os.link(source, staged)
        except OSError:
            pass  # missing (get_file says so), another filesystem, or no links there: copy
        else:
            try:
                store.verify(digest)
                os.chmod(staged, 0o444)
                os.replace(staged, dest)
                return dest
            finally:
                staged.unlink(missing_ok=True)
    return store.get_file(digest, dest)
