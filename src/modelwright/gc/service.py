"""``collect_garbage``: mark and sweep over the artifact store and every datastore.

Deleting records never deletes bytes (content addressing shares an object between records
of any workspace); this operation does, for objects that nothing live names any more:

1. **List** each store's objects, with their size and last write.
2. **Mark** every digest a record names (``_marks``): runs' artifacts (deleted runs too, as
   they can be restored), model versions' manifests and files, node cache entries, project
   snapshots of jobs and retraining actions, recent uploads; in a datastore, each dataset
   version's object, or its manifest with every object and pack it lists. Capture files
   and anything else outside the content-addressed tree are never looked at.
3. **Sweep** the listed objects that are unmarked and older than the grace period
   (``Settings.gc_grace_minutes``). Listing comes before marking, so a record committed
   meanwhile is seen; the grace period covers what a registration uploads before it
   records the version naming it, so an object being written is never collected. Just
   before deleting, the candidates are marked again in a transaction of their own, which
   sees a record committed since that names an old object again (its bytes were already
   stored, so nothing was uploaded); on SQLite no record commits while this runs at all.

Only a platform admin may collect garbage (it reads every workspace's records and touches
every store); a run that deletes something is audited with the counts and bytes freed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.core.context import Context
from modelwright.errors import ModelwrightError
from modelwright.gc import models as m
from modelwright.gc._marks import artifact_marks, datastore_marks
from modelwright.store import schema
from modelwright.store.artifacts import ArtifactStore, StoredObject, location_of
from modelwright.store.db import reading_only

__all__ = ["collect_garbage"]

# How many freed digests a report lists per store.
_LISTED = 1000


def collect_garbage(ctx: Context, req: m.CollectGarbage) -> m.GarbageReport:
    ctx.require_platform_admin("collect garbage")
    grace = ctx.settings.gc_grace_minutes
    cutoff = time.time() - grace * 60
    stores = _stores(ctx)
    # Listed before anything is marked: see the module's notes.
    listed: dict[str, list[StoredObject] | str] = {}
    for location, (store, _, _) in stores.items():
        listed[location] = _list(store)
    sweeps: list[m.StoreSweep] = []
    for location, (store, label, datastores) in stores.items():
        objects = listed[location]
        if isinstance(objects, str):
            sweeps.append(m.StoreSweep(store=label, location=location, error=objects))
            continue
        named = _marker(
            store, [d.id for d in datastores], location == _location(ctx.artifacts), cutoff
        )
        sweep = _sweep(store, objects, named, ctx.session, cutoff=cutoff, dry_run=req.dry_run)
        sweeps.append(sweep.model_copy(update={"store": label, "location": location}))
    report = m.GarbageReport(
        dry_run=req.dry_run,
        grace_minutes=grace,
        objects_freed=sum(s.freed for s in sweeps),
        bytes_freed=sum(s.bytes_freed for s in sweeps),
        stores=sweeps,
    )
    if not req.dry_run and report.objects_freed:
        ctx.audit(
            "gc.collect",
            target="stores",
            after={
                "objects_freed": report.objects_freed,
                "bytes_freed": report.bytes_freed,
                "stores": {s.store: {"freed": s.freed, "bytes": s.bytes_freed} for s in sweeps},
            },
        )
    return report


_ARTIFACTS = "artifact store"


def _stores(ctx: Context) -> dict[str, tuple[ArtifactStore, str, list[schema.Datastore]]]:
    """Each store once, by where it keeps its objects, with a label and its datastores:
    datastores sharing a location (or the artifact store's) are swept together, with the
    marks of all of them."""
    artifacts = ctx.artifacts
    found: dict[str, tuple[ArtifactStore, list[str], list[schema.Datastore]]] = {
        _location(artifacts): (artifacts, [_ARTIFACTS], [])
    }
    for ds in ctx.session.scalars(select(schema.Datastore).order_by(schema.Datastore.id)):
        store = ctx.open_store(ds.url)
        store, labels, datastores = found.setdefault(_location(store), (store, [], []))
        labels.append(f"datastore {_name(ds)}")
        datastores.append(ds)
    return {loc: (st, ", ".join(labels), dss) for loc, (st, labels, dss) in found.items()}


def _location(store: ArtifactStore) -> str:
    """Where a store keeps its objects, as a URL: a path alone could name a directory of
    two filesystems (``/x`` on disk, ``memory://x``)."""
    return str(getattr(store, "url", None) or location_of(store))


def _name(ds: schema.Datastore) -> str:
    env = ds.environment
    return f"{env.workspace.name}/{env.name}/{ds.name}"


def _list(store: ArtifactStore) -> list[StoredObject] | str:
    lister = getattr(store, "list_objects", None)
    if lister is None:
        return f"{type(store).__name__} cannot list its objects, so it was not swept"
    try:
        return list(lister())
    except (OSError, ModelwrightError) as exc:
        return f"its objects could not be listed: {exc}"


def _marker(
    store: ArtifactStore, datastore_ids: list[int], artifacts: bool, cutoff: float
) -> Callable[[Session], set[str]]:
    """What names objects of one store, read in a given transaction."""

    def named(session: Session) -> set[str]:
        marks = datastore_marks(session, store, datastore_ids)
        return marks | artifact_marks(session, cutoff) if artifacts else marks

    return named


def _sweep(
    store: ArtifactStore,
    objects: list[StoredObject],
    named: Callable[[Session], set[str]],
    session: Session,
    *,
    cutoff: float,
    dry_run: bool,
) -> m.StoreSweep:
    marks = named(session)
    live = sum(1 for o in objects if o.digest in marks)
    recent = sum(1 for o in objects if o.digest not in marks and o.modified >= cutoff)
    doomed = [o for o in objects if o.digest not in marks and o.modified < cutoff]
    if doomed and not dry_run:
        # Marked again in a transaction of its own, which sees what was committed since the
        # first marks (a registration naming an old object again), just before deleting.
        with reading_only(), Session(session.get_bind()) as fresh:
            again = named(fresh)
        live += sum(1 for o in doomed if o.digest in again)
        doomed = [o for o in doomed if o.digest not in again]
    freed: list[StoredObject] = []
    for obj in doomed:
        if dry_run or store.delete(obj.digest):  # False: gone already (another collection)
            freed.append(obj)
    return m.StoreSweep(
        store="",
        location="",
        objects=len(objects),
        live=live,
        recent=recent,
        freed=len(freed),
        bytes_freed=sum(o.size for o in freed),
        digests=[o.digest for o in freed[:_LISTED]],
    )
