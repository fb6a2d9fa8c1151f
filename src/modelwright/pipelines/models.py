"""Requests and responses of the pipeline cache operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Base64Bytes, BaseModel, ConfigDict, Field, model_validator

from modelwright.core.ints import ByteSize
from modelwright.core.models import Idempotent, Request
from modelwright.core.names import Name
from modelwright.tracking.models import (
    ArtifactFile,
    Key,
    NewRunId,
    ParamValue,
    RunId,
    RunStatus,
    TagValue,
)

__all__ = [
    "DAG_ARTIFACT",
    "CacheEntry",
    "DagNode",
    "Digest",
    "LookupCache",
    "NodeLookup",
    "NodeRun",
    "NodeStatus",
    "OutputObject",
    "PipelineDag",
    "PipelineRunEnd",
    "PipelineRunRecorded",
    "RecordCache",
    "RecordPipelineRun",
    "RecordedCache",
]

Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
NodeName = Annotated[str, Field(min_length=1, max_length=200)]
MAX_NODES = 5000
# Objects small enough to travel inside a record call (base64 in JSON) instead of being
# uploaded one request each; a server takes request bodies of up to 10 MiB.
MAX_INLINE_OBJECT = 64 * 1024
MAX_INLINE_TOTAL = 2 * 1024 * 1024


class OutputObject(BaseModel):
    """A node output kept in the artifact store."""

    digest: Digest
    format: str = Field(max_length=16)
    size: ByteSize


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
    run_id: NewRunId
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


class NodeRun(Request):
    """One node's execution in a pipeline run, recorded as a child run of the pipeline's run:
    its status, times, params, tags and metrics, its outputs (run artifacts ``outputs/<name>``
    and lineage edges run → artifact), the artifacts it read (lineage edges artifact → run)
    and, with ``cache_key``, a cache entry for its outputs."""

    # Durations and other metrics may be NaN or infinite; JSON carries them as strings.
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")

    node: NodeName
    run_id: NewRunId = Field(
        description="Chosen by the runner (32 lowercase hex characters), so that progress "
        "reports name the child run before it is recorded."
    )
    started: bool = Field(
        default=False,
        description="The child run was started already (it read or wrote a registered "
        "dataset): finish it. Otherwise it is created, already ended.",
    )
    status: Literal["finished", "failed", "killed"] = "finished"
    started_at: datetime
    ended_at: datetime
    error: str = Field(default="", max_length=20_000)
    params: dict[Key, ParamValue] = Field(default_factory=dict)
    tags: dict[Key, TagValue] = Field(default_factory=dict)
    metrics: dict[Key, float] = Field(default_factory=dict)
    outputs: dict[Key, OutputObject] = Field(default_factory=dict)
    inputs: list[Digest] = Field(
        default_factory=list, description="Artifact digests the node read (lineage edges)."
    )
    cache_key: Digest | None = Field(
        default=None, description="Record a cache entry under this key (finished runs only)."
    )

    @model_validator(mode="after")
    def _cache_needs_success(self) -> NodeRun:
        if self.cache_key is not None and self.status != "finished":
            raise ValueError(f"node '{self.node}': only a finished node has a cache entry")
        return self


class PipelineRunEnd(Request):
    status: Literal["finished", "failed", "killed"] = "finished"
    error: str = Field(default="", max_length=20_000)


class RecordPipelineRun(Idempotent):
    """What a pipeline's run did since the runner's previous call, in one transaction: the
    nodes that finished (child runs of ``run_id``), the run's own params and artifacts, and
    with ``end`` the end of the run."""

    run_id: RunId
    pipeline: NodeName
    nodes: list[NodeRun] = Field(default_factory=list, max_length=MAX_NODES)
    params: dict[Key, ParamValue] = Field(default_factory=dict)
    artifacts: list[ArtifactFile] = Field(default_factory=list)
    end: PipelineRunEnd | None = None
    objects: dict[Digest, Base64Bytes] = Field(
        default_factory=dict,
        description="Small objects (digest → bytes, base64 in JSON) that nodes or artifacts "
        "of this call name, stored in the artifact store before anything is recorded: an "
        "upload each would cost a request each.",
    )
    snapshot: dict[str, Any] | None = Field(
        default=None,
        description="The environment snapshot of the run, when it was started without one "
        "(the runner takes it while the first nodes run).",
    )

    @model_validator(mode="after")
    def _inline_limits(self) -> RecordPipelineRun:
        total = 0
        for digest, data in self.objects.items():
            if len(data) > MAX_INLINE_OBJECT:
                raise ValueError(
                    f"objects.{digest}: {len(data)} bytes; objects over {MAX_INLINE_OBJECT} "
                    "bytes are uploaded on their own"
                )
            total += len(data)
        if total > MAX_INLINE_TOTAL:
            raise ValueError(f"objects: {total} bytes in all, more than {MAX_INLINE_TOTAL}")
        return self


class PipelineRunRecorded(BaseModel):
    run_ids: dict[str, str] = Field(description="Node name → its child run.")
    cache_entries: int = Field(description="Cache entries created (existing keys are kept).")
    status: RunStatus = Field(description="The pipeline's run's status after the call.")


# The artifact of a pipeline's run that holds its DAG (``PipelineDag`` as JSON).
DAG_ARTIFACT = "pipeline/dag.json"


class DagNode(BaseModel):
    name: str
    needs: list[str] = Field(default_factory=list, description="The nodes it reads outputs of.")
    inputs: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)


class PipelineDag(BaseModel):
    """A pipeline's nodes as its run ran them (in order), kept with the run so that a node
    that never started (skipped after a failure, waiting) still has its place."""

    nodes: list[DagNode]
