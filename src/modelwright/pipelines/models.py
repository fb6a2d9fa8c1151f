"""Requests and responses of the pipeline cache operations."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from modelwright.core.models import Request
from modelwright.core.names import Name
from modelwright.tracking.models import Key, ParamValue, RunId

__all__ = [
    "CacheEntry",
    "CachedNode",
    "CachedRuns",
    "Digest",
    "LookupCache",
    "NodeLookup",
    "NodeStatus",
    "OutputObject",
    "RecordCache",
    "RecordCachedRuns",
    "RecordedCache",
]

Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
NodeName = Annotated[str, Field(min_length=1, max_length=200)]
MAX_NODES = 5000


class OutputObject(BaseModel):
    """A node output kept in the artifact store."""

    digest: Digest
    format: str = Field(max_length=16)
    size: int = Field(ge=0)


class NodeLookup(Request):
    """What makes one node's cache key. ``inputs``: input name → content hash, for inputs
    known now; ``upstream``: input name → the node producing it in this pipeline, whose
    output digest (from its own cache hit) completes the key on the server."""

    node: NodeName
    code: Digest
    inputs: dict[str, Digest] = Field(default_factory=dict)
    upstream: dict[str, NodeName] = Field(default_factory=dict)
    outputs: list[str] = Field(default_factory=list)


class LookupCache(Request):
    workspace: Name
    environment: Name
    pipeline: NodeName
    fingerprint: str = Field(max_length=2000)
    nodes: list[NodeLookup] = Field(
        max_length=MAX_NODES, description="In pipeline order (producers before consumers)."
    )


class NodeStatus(BaseModel):
    node: str
    hit: bool
    cache_key: str | None = Field(description="None while an upstream node has to run first.")
    run_id: str | None = None
    outputs: dict[str, OutputObject] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(
        default_factory=dict, description="Every input's content hash, when the key is known."
    )
    reason: str


class CacheEntry(Request):
    node: NodeName
    cache_key: Digest
    run_id: RunId
    outputs: dict[str, OutputObject]
    inputs: list[Digest] = Field(
        default_factory=list, description="Artifact digests the node read (lineage edges)."
    )


class RecordCache(Request):
    workspace: Name
    environment: Name
    pipeline: NodeName
    entries: list[CacheEntry] = Field(min_length=1, max_length=MAX_NODES)


class RecordedCache(BaseModel):
    created: int
    existing: int


class CachedNode(Request):
    node: NodeName
    cache_key: Digest
    source_run_id: RunId
    outputs: dict[str, OutputObject]
    inputs: list[Digest] = Field(default_factory=list)
    params: dict[Key, ParamValue] = Field(default_factory=dict)


class RecordCachedRuns(Request):
    """Child runs of ``parent_id`` for nodes restored from the cache, in one transaction."""

    parent_id: RunId
    nodes: list[CachedNode] = Field(min_length=1, max_length=MAX_NODES)


class CachedRuns(BaseModel):
    run_ids: dict[str, str] = Field(description="Node name → its child run.")
