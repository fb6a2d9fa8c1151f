"""The digests live records name: what garbage collection keeps.

Every table or JSON column that names an object of a store is read here; a new one must be
added, or its objects would be collected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.data.manifest import load_manifest, objects_of
from modelwright.errors import ModelwrightError
from modelwright.store import schema
from modelwright.store.artifacts import ArtifactStore

__all__ = ["artifact_marks", "datastore_marks"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


def artifact_marks(s: Session, cutoff: float) -> set[str]:
    """Objects of the artifact store that records name, or that were uploaded (claimed)
    since ``cutoff`` (epoch seconds) by someone who may name them in a record next."""
    marks: set[str] = set(s.scalars(select(schema.RunArtifact.digest).distinct()))
    for digest, meta in s.execute(
        select(schema.ModelVersion.digest, schema.ModelVersion.metadata_)
    ):
        marks.add(digest)
        marks.update(str(f.get("digest")) for f in (meta or {}).get("files", []))
    for outputs in s.scalars(select(schema.NodeCacheEntry.outputs)):
        marks.update(_digests_in(outputs))
    marks.update(s.scalars(select(schema.RetrainAction.project)))
    # A queued or retried job reads its project snapshot (and any object its inputs name).
    for inputs in s.scalars(select(schema.Job.inputs)):
        marks.update(_digests_in(inputs))
    since = datetime.fromtimestamp(cutoff, UTC)
    marks.update(
        s.scalars(select(schema.ObjectClaim.digest).where(schema.ObjectClaim.created_at >= since))
    )
    return marks


def datastore_marks(s: Session, store: ArtifactStore, datastore_ids: list[int]) -> set[str]:
    """Objects of one datastore location that the dataset versions of its datastores name: a
    file's object, or a directory's manifest with every object and pack it lists."""
    if not datastore_ids:
        return set()
    marks: set[str] = set()
    rows = s.execute(
        select(schema.DatasetVersion.digest, schema.DatasetVersion.kind).where(
            schema.DatasetVersion.datastore_id.in_(datastore_ids)
        )
    )
    for digest, kind in rows:
        marks.add(digest)
        if kind == "directory":
            try:
                marks.update(objects_of(load_manifest(store.get_bytes(digest))))
            except ModelwrightError:
                continue  # a missing or damaged manifest names nothing readable
    return marks


def _digests_in(value: Any) -> Iterator[str]:
    """Every sha256 found anywhere in a JSON value."""
    if isinstance(value, str):
        if _DIGEST.fullmatch(value):
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _digests_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from _digests_in(v)
