"""Registering datasets in the client: hash and move the bytes here, then one operation
records a version.

Registering a file or directory: stat every file; take digests of unchanged files from the
local hash cache; ask the service which objects the datastore lacks (which also checks
permissions and data isolation before any byte moves); store only those; record the
version. Embedded, files are copied straight into the datastore, hashed on the way, with one
durability barrier per batch; over HTTP they are hashed on a thread pool, then uploaded.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from modelwright.api import data as ops
from modelwright.client._cache import cache_dir
from modelwright.client._local_store import Batch, Stored, store_local
from modelwright.client._progress import Meter, Progress, ShowProgress, progress_of
from modelwright.client._tracking import TrackingMixin
from modelwright.core.names import check_name
from modelwright.data import models as dm
from modelwright.data._packs import Location
from modelwright.data.hashing import HashCache, LocalFile, hash_files, scan, sha256_file
from modelwright.data.manifest import ManifestEntry, dump_manifest, load_manifest, objects_of
from modelwright.data.tabular import TABULAR, format_of, format_of_files, write_frame
from modelwright.errors import (
    ArtifactCorrupted,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from modelwright.objects.models import ObjectScope

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LoadAs", "Progress", "RegisterMixin", "ShowProgress"]

LoadAs = Literal["auto", "dataframe", "path"]
_UPLOADS = 4  # concurrent uploads over HTTP


@dataclass(frozen=True)
class _NewVersion:
    """The version being registered: the next of dataset ``name`` of ``ws``/``env``, an output
    of ``run_id``."""

    ws: str
    env: str
    name: str
    run_id: str | None
    description: str

    def fields(self, datastore: str | None) -> dict[str, Any]:
        """Where it goes, as both the upload plan and the record ask for it."""
        return {
            "workspace": self.ws,
            "environment": self.env,
            "name": self.name,
            "datastore": datastore,
            "run_id": self.run_id,
        }


@dataclass(frozen=True)
class _Asked:
    """What a caller asked to register, before the version's place is resolved."""

    name: str
    workspace: str | None
    environment: str | None
    datastore: str | None
    run_id: str | None
    description: str


class _Stored(NamedTuple):
    """Bytes in a datastore, to be recorded as the new version."""

    new: _NewVersion
    datastore: str
    kind: dm.Kind
    fmt: str
    digest: str


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


class RegisterMixin(TrackingMixin):
    """Registering dataset versions, a part of ``Client``."""

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
        progress: ShowProgress = None,
    ) -> dm.DatasetVersionInfo:
        """Register a file, a directory or a pandas DataFrame as the next version of ``name``.

        The bytes go to a datastore of the environment (``datastore``, or its only one),
        stored once by sha256. Registering the same content as the latest version returns
        that version (``created`` is False). With ``run_id`` (default environment: the
        run's) the version is recorded as the run's output. ``format`` overrides the one
        the file names suggest (``parquet``, ``csv``, ``tsv``, ``json`` lines, ``binary``).

        ``progress``: progress bars on stderr (rows written, bytes hashed and stored, the
        profiling) with True, none with False; by default, only in a terminal or a notebook.
        A callable ``progress(phase, done, total)`` gets the figures instead.
        """
        check_name(name, "name")
        asked = _Asked(name, workspace, environment, datastore, run_id, description)
        with progress_of(progress) as callback:
            meter = Meter(callback)
            if isinstance(source, str | os.PathLike):
                version = self._register_path(asked, Path(source), meter, format)
            else:
                version = self._register_frame(asked, source, meter)
            if version.fmt in TABULAR:  # the service reads the stored table to profile it
                meter.start("profile", 0)
            info = self._record(*version)
            if version.fmt in TABULAR:
                meter.start("profile", info.size)
                meter.add(info.size)
            return info

    def _register_path(
        self, asked: _Asked, path: Path, meter: Meter, format: str | None
    ) -> _Stored:
        files = scan(path)  # before any request: a missing source changes nothing anywhere
        new = self._new(asked)
        ws, env, datastore = new.ws, new.env, asked.datastore
        kind: dm.Kind = "directory" if path.is_dir() else "file"
        fmt = format or (
            format_of(files[0].rel) if kind == "file" else format_of_files(f.rel for f in files)
        )
        with (
            HashCache(cache_dir(self.transport) / "hashes.sqlite") as cache,
            _source_errors(files[0].path if kind == "file" else str(path.absolute())),
        ):
            known = cache.lookup(files)
            # Asked before any byte is read, so that a refusal does not wait for gigabytes.
            store_name, placed = self._placements(
                new, datastore, known, directory=kind == "directory"
            )
            scope = ObjectScope.in_datastore(ws, env, store_name)
            target = self.transport.open_store(scope, write=True)
            batch = Batch(files, known, placed)
            if target is not None:
                entries, fresh = store_local(target, scope, batch, meter)
            else:
                entries, fresh = self._upload(new, scope, batch, meter)
            cache.remember(fresh)
        if kind == "file":
            digest = entries[0].digest
        else:
            digest = self.transport.put_object(scope, dump_manifest(entries))
        return _Stored(new, store_name, kind, fmt, digest)

    def _register_frame(self, asked: _Asked, frame: Any, meter: Meter) -> _Stored:
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(
                "source: expected a file or directory path or a pandas DataFrame, got "
                f"{type(frame).__name__}",
                details={"field": "source"},
            )
        with tempfile.TemporaryDirectory(prefix="mw-frame-") as tmp:
            path = Path(tmp) / "frame.parquet"
            meter.start("rows", len(frame))
            # Refuses unsupported columns before any request; a slice at a time.
            write_frame(frame, path, on_rows=meter.add)
            new = self._new(asked)
            size = path.stat().st_size
            meter.start("hash", size)
            digest = sha256_file(str(path), meter.add)
            plan = self._prepare(new, asked.datastore, [digest])
            meter.start("store", size if plan.missing else 0)
            if plan.missing:
                scope = ObjectScope.in_datastore(new.ws, new.env, plan.datastore)
                self.transport.put_object(scope, path, digest=digest, on_bytes=meter.add)
        return _Stored(new, plan.datastore, "dataframe", "parquet", digest)

    def _record(
        self, new: _NewVersion, datastore: str, kind: dm.Kind, format: str, digest: str
    ) -> dm.DatasetVersionInfo:
        """Record the version whose bytes are in ``datastore`` now."""
        return self.call(
            ops.REGISTER_DATASET,
            **new.fields(datastore),
            kind=kind,
            format=format,
            digest=digest,
            description=new.description,
        )

    def _new(self, asked: _Asked) -> _NewVersion:
        ws, env = self._where(asked.workspace, asked.environment, asked.run_id)
        return _NewVersion(ws, env, asked.name, asked.run_id, asked.description)

    def _where(
        self, workspace: str | None, environment: str | None, run_id: str | None
    ) -> tuple[str, str]:
        if run_id and not (workspace and environment):
            run = self.get_run(run_id)
            return workspace or run.workspace, environment or run.environment
        ws = self.resolve_workspace(workspace)
        return ws, self.resolve_environment(ws, environment)

    def _prepare(
        self, new: _NewVersion, datastore: str | None, digests: Sequence[str]
    ) -> dm.UploadPlan:
        unique = list(dict.fromkeys(digests))
        step = dm.MAX_DIGESTS
        chunks = [unique[i : i + step] for i in range(0, len(unique), step)] or [[]]
        plans = [
            self.call(ops.PREPARE_DATASET_UPLOAD, **new.fields(datastore), digests=chunk)
            for chunk in chunks
        ]
        return dm.UploadPlan(
            datastore=plans[0].datastore, missing=[d for p in plans for d in p.missing]
        )

    def _prior(self, new: _NewVersion, datastore: str) -> tuple[str, list[ManifestEntry]] | None:
        """The datastore and files of the latest version of a directory dataset, if any: where
        its bytes are is reused, so that unchanged files are neither read nor stored again."""
        try:
            info = self.call(
                ops.GET_DATASET_VERSION,
                workspace=new.ws,
                environment=new.env,
                name=new.name,
                version=dm.LATEST,
            )
            if info.kind != "directory" or info.datastore != datastore:
                return None
            data = self.transport.get_object(
                ObjectScope.in_datastore(new.ws, new.env, info.datastore), info.digest
            )
            return info.datastore, load_manifest(data)
        except (NotFound, PermissionDenied, InvalidInput, ArtifactCorrupted):
            return None  # nothing to reuse: every file is stored as new content

    def _placements(
        self, new: _NewVersion, datastore: str | None, known: dict[str, str], *, directory: bool
    ) -> tuple[str, dict[str, Location]]:
        """The datastore, and where contents of known digests already are in it.

        The permission and isolation checks come first, before anything is read or moved;
        then, for a directory, the latest version's manifest says where its files are; then
        the datastore says which of the other known contents and which packs it has.
        """
        plan = self._prepare(new, datastore, [])
        prior = self._prior(new, plan.datastore) if directory else None
        previous = prior[1] if prior else []
        in_prior = {e.digest for e in previous}
        ask = [d for d in known.values() if d not in in_prior] + objects_of(previous)
        if ask:
            plan = self._prepare(new, plan.datastore, ask)
        missing = set(plan.missing)
        placed: dict[str, Location] = {
            e.digest: (e.pack, e.offset) for e in previous if e.object not in missing
        }
        for d in known.values():
            if d not in missing and d not in in_prior:
                placed.setdefault(d, (None, 0))
        return plan.datastore, placed

    def _upload(self, new: _NewVersion, scope: ObjectScope, batch: Batch, meter: Meter) -> Stored:
        """Remote: hash what the cache does not know, then upload what the datastore lacks
        (as objects of their own; files already in the datastore are pointed at)."""
        files, known, placed = batch.files, batch.known, batch.placed
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
                missing += self._prepare(new, scope.datastore, fresh).missing
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
