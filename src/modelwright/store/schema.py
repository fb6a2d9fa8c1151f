"""The metadata tables. Every change here comes with an Alembic migration in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from modelwright.store.latency import SERVING_LATENCY_BOUNDS_MS

NAME = 64


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the metadata store; use UTC-aware values")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UTCDateTime}


class Principal(Base):
    __tablename__ = "principals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "user" | "service"
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column()


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[list[str]] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(default=False)


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column()

    environments: Mapped[list[Environment]] = relationship(
        back_populates="workspace", order_by="Environment.position", cascade="all, delete-orphan"
    )


class Environment(Base):
    __tablename__ = "environments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    # Place on the promotion path: dev=0 → staging=1 → prod=2.
    position: Mapped[int] = mapped_column(Integer)
    production: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    # The gates a model version must pass to enter (workspaces.policy.PromotionPolicy).
    promotion_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    workspace: Mapped[Workspace] = relationship(back_populates="environments")
    datastores: Mapped[list[Datastore]] = relationship(
        back_populates="environment", order_by="Datastore.name", cascade="all, delete-orphan"
    )


class Datastore(Base):
    __tablename__ = "datastores"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    url: Mapped[str] = mapped_column(Text)
    classification: Mapped[str] = mapped_column(String(16))  # "non-production" | "production"
    region: Mapped[str] = mapped_column(String(64), default="")

    environment: Mapped[Environment] = relationship(back_populates="datastores")


class Grant(Base):
    """principal × role × (workspace or all) × (environment or all)."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("principal_id", "role_id", "workspace", "environment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id", ondelete="CASCADE"))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"))
    # Names rather than ids so that "*" (every workspace / environment) needs no special row.
    workspace: Mapped[str] = mapped_column(String(NAME))
    environment: Mapped[str] = mapped_column(String(NAME))

    principal: Mapped[Principal] = relationship()
    role: Mapped[Role] = relationship()


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    principal_id: Mapped[int] = mapped_column(ForeignKey("principals.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME), default="")
    # Only the SHA-256 of the secret is kept; the secret is shown once at creation.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    principal: Mapped[Principal] = relationship()


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    principal: Mapped[str] = mapped_column(String(NAME), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    workspace: Mapped[str] = mapped_column(String(NAME), default="")
    environment: Mapped[str] = mapped_column(String(NAME), default="")
    target: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# -- tracking (revision 0002) ------------------------------------------------------------------
KEY = 250  # metric, param and tag keys


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))
    # Soft deletion (revision 0020): hidden from listings, restorable, removed for good on
    # request once older than the retention.
    deleted_at: Mapped[datetime | None] = mapped_column(index=True)
    deleted_by: Mapped[str | None] = mapped_column(String(NAME))

    workspace: Mapped[Workspace] = relationship()


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))  # running | finished | failed | killed
    created_by: Mapped[str] = mapped_column(String(NAME))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str] = mapped_column(Text, default="")
    # git commit + dirty-diff hash, Python, platform, package lock: taken at start.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The last sign of life of its process (a start, a batch, a heartbeat; revision 0009): a
    # running run without one for long enough is shown as lost.
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    # Soft deletion (revision 0020), as for experiments.
    deleted_at: Mapped[datetime | None] = mapped_column(index=True)
    deleted_by: Mapped[str | None] = mapped_column(String(NAME))

    experiment: Mapped[Experiment] = relationship()
    environment: Mapped[Environment] = relationship()


class RunParam(Base):
    __tablename__ = "run_params"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunTag(Base):
    __tablename__ = "run_tags"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunMetric(Base):
    """Every logged point. NaN is kept as a flag because SQLite stores NaN as NULL."""

    __tablename__ = "run_metrics"
    __table_args__ = (Index("ix_run_metrics_run_key_step", "run_id", "key", "step"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY))
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(default=False)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)  # milliseconds since the epoch


class MetricOutline(Base):
    """A long series of an ended run, thinned once to ``OUTLINE_POINTS`` (each bucket's
    lowest and highest point), so that a chart of it reads thousands of points, not millions.
    ``points`` holds ``steps``, ``values`` (NaN as null) and ``timestamps``."""

    __tablename__ = "run_metric_outlines"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    total: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[dict[str, Any]] = mapped_column(JSON)


class LatestMetric(Base):
    """The newest point per run and key (highest step, then timestamp): what search filters on."""

    __tablename__ = "run_latest_metrics"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(default=False)
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class RunArtifact(Base):
    __tablename__ = "run_artifacts"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)


# -- datasets ----------------------------------------------------------------------------------
class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))
    # The highest version number ever given: a deleted version's number is never reused.
    last_version: Mapped[int] = mapped_column(default=0, server_default="0")

    environment: Mapped[Environment] = relationship()
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.version", cascade="all, delete-orphan"
    )


class DatasetVersion(Base):
    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # sha256 of the bytes (a file) or of the manifest (a directory).
    digest: Mapped[str] = mapped_column(String(64), index=True)
    datastore_id: Mapped[int] = mapped_column(ForeignKey("datastores.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # file | directory | dataframe
    format: Mapped[str] = mapped_column(String(16))  # parquet | csv | json | binary | ...
    size: Mapped[int] = mapped_column(BigInteger)
    files: Mapped[int] = mapped_column(Integer)
    schema_: Mapped[list[dict[str, Any]] | None] = mapped_column("schema", JSON)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))

    dataset: Mapped[Dataset] = relationship(back_populates="versions")
    datastore: Mapped[Datastore] = relationship()


# -- lineage -----------------------------------------------------------------------------------
class LineageEdge(Base):
    """``source`` → ``target``: a dataset version read by a run, an artifact a run wrote, ..."""

    __tablename__ = "lineage_edges"
    __table_args__ = (
        UniqueConstraint("source_kind", "source_id", "target_kind", "target_id", "relation"),
        Index("ix_lineage_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(200))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(32))  # input | output
    created_at: Mapped[datetime] = mapped_column()


# -- model registry (revision 0003) ------------------------------------------------------------
class RegisteredModel(Base):
    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))
    # The highest version number ever given: a deleted version's number is never reused.
    last_version: Mapped[int] = mapped_column(default=0, server_default="0")

    workspace: Mapped[Workspace] = relationship()
    versions: Mapped[list[ModelVersion]] = relationship(
        back_populates="model", order_by="ModelVersion.version", cascade="all, delete-orphan"
    )


class ModelVersion(Base):
    """An immutable, content-addressed model: artifact manifest digest, flavor, signature."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # sha256 of the version's manifest (its files and their digests) in the artifact store.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    flavor: Mapped[str] = mapped_column(String(64))
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    requirements: Mapped[list[str]] = mapped_column(JSON)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # The environment it was registered in; promotion adds others (model_version_environments).
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))

    model: Mapped[RegisteredModel] = relationship(back_populates="versions")
    environment: Mapped[Environment] = relationship()


class ModelVersionEnvironment(Base):
    """Environments a version is available in: where it was registered, and where promoted."""

    __tablename__ = "model_version_environments"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column()
    by: Mapped[str] = mapped_column(String(NAME))
    how: Mapped[str] = mapped_column(String(16))  # registered | promoted


class ModelAlias(Base):
    """``champion``, ``challenger``, ...: per model and environment, pointing at one version."""

    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("model_id", "environment_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(NAME))
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    updated_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(NAME))


class ModelAliasEvent(Base):
    """Every move of an alias, kept forever: who pointed which alias at which version, when."""

    __tablename__ = "model_alias_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(NAME))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int | None] = mapped_column(Integer)  # None: the alias was removed
    at: Mapped[datetime] = mapped_column(index=True)
    by: Mapped[str] = mapped_column(String(NAME))
    reason: Mapped[str] = mapped_column(Text, default="")


# -- pipelines (revision 0003) -----------------------------------------------------------------
class NodeCacheEntry(Base):
    """A node execution that succeeded, by cache key (code, inputs, parameters, environment)."""

    __tablename__ = "pipeline_cache"
    __table_args__ = (UniqueConstraint("environment_id", "cache_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    pipeline: Mapped[str] = mapped_column(String(200))
    node: Mapped[str] = mapped_column(String(200))
    cache_key: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    # output name → {"digest": sha256 in the artifact store, "format": ..., "size": ...}
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column()


# -- serving (revision 0004) -------------------------------------------------------------------
class Endpoint(Base):
    """A real-time endpoint of an environment: deployments by weight, at most one shadow."""

    __tablename__ = "endpoints"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    description: Mapped[str] = mapped_column(Text, default="")
    # The deployment receiving a copy of shadow_percent % of requests (answers discarded).
    shadow: Mapped[str | None] = mapped_column(String(NAME))
    shadow_percent: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change, so routers notice changes with one cheap query.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))
    updated_at: Mapped[datetime] = mapped_column()

    environment: Mapped[Environment] = relationship()
    deployments: Mapped[list[EndpointDeployment]] = relationship(
        back_populates="endpoint", order_by="EndpointDeployment.name", cascade="all, delete-orphan"
    )


class EndpointDeployment(Base):
    """A model version plus its serving config, behind an endpoint, with a traffic weight."""

    __tablename__ = "endpoint_deployments"
    __table_args__ = (UniqueConstraint("endpoint_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    weight: Mapped[int] = mapped_column(Integer, default=0)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))

    endpoint: Mapped[Endpoint] = relationship(back_populates="deployments")
    version: Mapped[ModelVersion] = relationship()


# -- object provenance (revision 0005) ---------------------------------------------------------
class ObjectClaim(Base):
    """A principal sent these bytes to the artifact store, so it may name them in a record.

    Content addressing deduplicates bytes across every workspace; a digest alone is no proof
    of possession. Naming an object (a run artifact, a model file) needs either this claim or
    read access to something that already names it, so records never widen who reads bytes.
    """

    __tablename__ = "object_claims"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column()


class ProductionObject(Base):
    """Bytes that a production datastore holds for a dataset version (files, packs, the
    manifest): never registered, uploaded or logged again outside production."""

    __tablename__ = "production_objects"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The first version that held these bytes; kept when the version goes (the bytes stay).
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="SET NULL")
    )


# -- workflows and events (revision 0007) ------------------------------------------------------
class Job(Base):
    """One run of a durable workflow: its inputs, state, lease and outcome.

    A job is due when its status is ``queued`` or ``waiting`` and ``wake_at`` has passed (a
    job waiting for a signal has no ``wake_at`` until the signal arrives); a ``running`` job
    whose lease expired is due again (its worker died). ``key`` makes starts idempotent (a
    schedule occurrence, a trigger's event).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_due", "status", "wake_at"),
        Index("ix_jobs_scope", "workspace", "environment", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(NAME), index=True)
    queue: Mapped[str] = mapped_column(String(NAME))
    workspace: Mapped[str] = mapped_column(String(NAME), default="")
    environment: Mapped[str] = mapped_column(String(NAME), default="")
    # The action needed there to cancel or retry it (revision 0008), from the workflow kind.
    action: Mapped[str] = mapped_column(
        String(64), default="pipeline.run", server_default="pipeline.run"
    )
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    started_by: Mapped[str] = mapped_column(String(NAME))
    key: Mapped[str | None] = mapped_column(String(300), unique=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    wake_at: Mapped[datetime | None] = mapped_column()
    waiting_for: Mapped[str | None] = mapped_column(String(NAME))
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class JobStep(Base):
    """A step of a job, by its position in the workflow: a recorded result is never run again."""

    __tablename__ = "job_steps"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # succeeded | failed | retrying | sleeping
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class JobSignal(Base):
    """A message to a job (an approval, a decision); consumed by the wait that asked for it."""

    __tablename__ = "job_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_by: Mapped[str] = mapped_column(String(NAME))
    sent_at: Mapped[datetime] = mapped_column()
    consumed: Mapped[bool] = mapped_column(Boolean, default=False)


class Schedule(Base):
    """Starts a workflow at each occurrence of a cron expression or an interval."""

    __tablename__ = "schedules"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    kind: Mapped[str] = mapped_column(String(NAME))
    workspace: Mapped[str] = mapped_column(String(NAME), default="")
    environment: Mapped[str] = mapped_column(String(NAME), default="")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cron: Mapped[str | None] = mapped_column(String(100))
    every_seconds: Mapped[float | None] = mapped_column(Float)
    next_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(NAME))


class Event(Base):
    """A domain event, appended in the transaction of the change it describes."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column()
    kind: Mapped[str] = mapped_column(String(64))
    workspace: Mapped[str] = mapped_column(String(NAME), default="")
    environment: Mapped[str] = mapped_column(String(NAME), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    principal: Mapped[str] = mapped_column(String(NAME), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Trigger(Base):
    """Starts a workflow for each event of a kind that matches a filter, once per event."""

    __tablename__ = "triggers"

    name: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    event_kind: Mapped[str] = mapped_column(String(64))
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    workflow: Mapped[str] = mapped_column(String(NAME))
    # The last event id this trigger has considered: events are read in id order.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(NAME))


# -- integrity (revision 0009) -----------------------------------------------------------------
class IdempotencyKey(Base):
    """A write applied under a client's idempotency key, with its answer: a repeat of the key
    (a retry after a timeout) gets the answer instead of applying the write again. Recorded
    in the write's own transaction; deleted after a retention period."""

    __tablename__ = "idempotency_keys"

    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    operation: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)  # the request's path: the operation's subject
    response: Mapped[str | None] = mapped_column(Text)  # JSON; set before the commit
    created_at: Mapped[datetime] = mapped_column(index=True)


class Promotion(Base):
    """A request to make a model version available in the next environment of the path."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    source_env_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    target_env_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), index=True
    )
    alias: Mapped[str | None] = mapped_column(String(NAME))
    # checking | awaiting_approval | rolling_out | promoted | rejected | failed | cancelled
    status: Mapped[str] = mapped_column(String(24), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(NAME))
    job_id: Mapped[int | None] = mapped_column(Integer)
    # The target's policy when requested; then each gate's result with its evidence.
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    gates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # A rollout on an endpoint of the target as the last gate (a RolloutPlan), and once
    # started, the rollout (revision 0014).
    release: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    rollout_id: Mapped[int | None] = mapped_column(Integer)
    # The version in the target: the same one, or its copy when the target is another
    # workspace (which keeps the source version's lineage).
    result_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    version: Mapped[ModelVersion] = relationship(foreign_keys=[version_id])
    source: Mapped[Environment] = relationship(foreign_keys=[source_env_id])
    target: Mapped[Environment] = relationship(foreign_keys=[target_env_id])


class PromotionDecision(Base):
    """One principal's approval or rejection of a promotion (one each)."""

    __tablename__ = "promotion_decisions"
    __table_args__ = (UniqueConstraint("promotion_id", "principal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(ForeignKey("promotions.id", ondelete="CASCADE"))
    principal: Mapped[str] = mapped_column(String(NAME))
    decision: Mapped[str] = mapped_column(String(16))  # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column()


# -- serving statistics (revision 0011) --------------------------------------------------------
# The latency histogram's bucket bounds live in store/latency.py, which the client may import.
SERVING_LATENCY_COLUMNS = tuple(f"le_{i:02d}" for i in range(len(SERVING_LATENCY_BOUNDS_MS) + 1))

# What one router counted for one deployment of an endpoint during one flush interval. The
# key (router, seq, endpoint, deployment) makes a flush sent again (its answer was lost)
# insert nothing. Times are epoch milliseconds of the router's clock: integers, so that a
# series is grouped by ``end_ms // step`` in SQL on both databases. ``deployment`` is "" for
# requests refused before a deployment was chosen (a bad token, no deployment taking traffic).
serving_stats = Table(
    "serving_stats",
    Base.metadata,
    Column("router", String(NAME), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("endpoint_id", Integer, ForeignKey("endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("deployment", String(NAME), nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("client_errors", BigInteger, nullable=False),
    Column("server_errors", BigInteger, nullable=False),
    Column("shed", BigInteger, nullable=False),
    Column("latency_sum_ms", Float, nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in SERVING_LATENCY_COLUMNS),
    PrimaryKeyConstraint("router", "seq", "endpoint_id", "deployment"),
    Index("ix_serving_stats_endpoint_end", "endpoint_id", "end_ms"),
)


class Rollout(Base):
    """A new deployment brought to all of an endpoint's traffic in steps, judged by alarms."""

    __tablename__ = "rollouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    deployment: Mapped[str] = mapped_column(String(NAME))
    stable: Mapped[str] = mapped_column(String(NAME))
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"))
    strategy: Mapped[str] = mapped_column(String(16))
    steps: Mapped[list[int]] = mapped_column(JSON)
    bake_seconds: Mapped[float] = mapped_column(Float)
    alarms: Mapped[list[str]] = mapped_column(JSON)
    min_requests: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    # running | paused | succeeded | rolled_back | aborted | failed
    status: Mapped[str] = mapped_column(String(16), index=True)
    weight: Mapped[int] = mapped_column(Integer, default=0)
    # Where the current step's window starts: after its shift (or a resume).
    window_start: Mapped[datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    started_by: Mapped[str] = mapped_column(String(NAME))
    job_id: Mapped[int | None] = mapped_column(Integer)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    endpoint: Mapped[Endpoint] = relationship()
    version: Mapped[ModelVersion] = relationship()


class RouterRoute(Base):
    """What one router instance routes for one endpoint, as it last reported: the platform's
    view of live routing, which a rollout checks against the endpoint's record."""

    __tablename__ = "router_routes"

    environment_id: Mapped[int] = mapped_column(
        ForeignKey("environments.id", ondelete="CASCADE"), primary_key=True
    )
    router: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(NAME), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Deployments with a live worker: the only ones a request can reach.
    ready: Mapped[list[str]] = mapped_column(JSON)
    interval: Mapped[float] = mapped_column(Float)
    reported_at: Mapped[datetime] = mapped_column(index=True)


# -- monitors (revision 0015) ------------------------------------------------------------------
class Monitor(Base):
    """Watches an endpoint's captured traffic, or the versions of a dataset series, against
    a baseline dataset version, over a sliding window, now and then (a schedule) or on demand."""

    __tablename__ = "monitors"
    __table_args__ = (UniqueConstraint("environment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    environment_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    # Exactly one of the two (revision 0019): an endpoint's capture, or a dataset series.
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("endpoints.id", ondelete="CASCADE"), index=True
    )
    dataset: Mapped[str | None] = mapped_column(String(NAME))
    baseline_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE")
    )
    window_seconds: Mapped[int] = mapped_column(Integer)
    # The schedule row (named after the monitor's id) starting its evaluations, if any.
    schedule: Mapped[str | None] = mapped_column(String(100))
    signals: Mapped[list[str]] = mapped_column(JSON)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column()
    # How model signals read the data (revision 0017): task, baseline_predictions, label_column.
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)

    environment: Mapped[Environment] = relationship()
    endpoint: Mapped[Endpoint | None] = relationship()
    baseline: Mapped[DatasetVersion] = relationship()


class MonitorResult(Base):
    """One value of one evaluation: a time series per (monitor, signal, metric, feature)."""

    __tablename__ = "monitor_results"
    __table_args__ = (Index("ix_monitor_results_monitor_at", "monitor_id", "evaluated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    evaluated_at: Mapped[datetime] = mapped_column()
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    signal: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(NAME))
    # None: about the whole window (a dataset-level share, a row count, a latency).
    feature: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    # ok | alert | no_data | error
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[int | None] = mapped_column(Integer)


# -- ground truth of captured requests (revision 0017) -----------------------------------------
class Label(Base):
    """The true outcome of one captured request of an endpoint, keyed by its request id;
    sent again, it replaces the one stored."""

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "request_id"),
        Index("ix_labels_endpoint_received", "endpoint_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    request_id: Mapped[str] = mapped_column(String(200))
    # A JSON scalar: a class (string, integer, boolean) or a number.
    label: Mapped[Any] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column()
    received_by: Mapped[str] = mapped_column(String(NAME))


# -- alerts of monitors (revision 0016) --------------------------------------------------------
class AlertRule(Base):
    """A condition on a monitor's values, held for some evaluations in a row before it fires,
    with where its notifications go, and its state."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("monitor_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME))
    signal: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str] = mapped_column(String(NAME))
    feature: Mapped[str | None] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    consecutive: Mapped[int] = mapped_column(Integer)
    # [{"kind", "target", "format"}]
    sinks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The webhooks' HMAC key: kept as given (signing needs it), never returned.
    secret: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column()
    # ok | firing | resolved
    state: Mapped[str] = mapped_column(String(16), default="ok")
    breaches: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float | None] = mapped_column(Float)
    since: Mapped[datetime | None] = mapped_column()
    last_evaluated_at: Mapped[datetime | None] = mapped_column()

    monitor: Mapped[Monitor] = relationship()


class AlertEvent(Base):
    """A rule's transition (firing or resolved) and what its sinks answered: one row per
    transition, so each is notified once."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_rule_id", "rule_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    monitor_id: Mapped[int] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    evaluated_at: Mapped[datetime] = mapped_column()
    window_start: Mapped[datetime] = mapped_column()
    window_end: Mapped[datetime] = mapped_column()
    # The alert as the sinks receive it.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # None until its sinks have answered; then what they answered in ``deliveries``:
    # [{"sink", "ok", "attempts", "detail"}]
    delivered_at: Mapped[datetime | None] = mapped_column()
    deliveries: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    rule: Mapped[AlertRule] = relationship()


# -- retraining of monitors (revision 0018) ----------------------------------------------------
class RetrainAction(Base):
    """What a monitor does when one of its alert rules fires: run a pipeline of a project
    snapshot, register its model, request its promotion; at most once per cooldown."""

    __tablename__ = "retrain_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(
        ForeignKey("monitors.id", ondelete="CASCADE"), unique=True
    )
    # sha256 of the project snapshot (an artifact object), as ``submit_pipeline_run`` makes it.
    project: Mapped[str] = mapped_column(String(64))
    pipeline: Mapped[str] = mapped_column(String(NAME))
    params: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The pipeline's outputs holding the fitted model and (optionally) an input example.
    output: Mapped[str] = mapped_column(String(NAME))
    example: Mapped[str | None] = mapped_column(String(NAME))
    model: Mapped[str] = mapped_column(String(NAME))
    train_env_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    target_env_id: Mapped[int] = mapped_column(ForeignKey("environments.id", ondelete="CASCADE"))
    alias: Mapped[str | None] = mapped_column(String(NAME))
    cooldown_seconds: Mapped[int] = mapped_column(Integer)
    # The retraining runs, and its promotion is requested, as this principal.
    created_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column()
    last_started_at: Mapped[datetime | None] = mapped_column()

    monitor: Mapped[Monitor] = relationship()
    train_env: Mapped[Environment] = relationship(foreign_keys=[train_env_id])
    target_env: Mapped[Environment] = relationship(foreign_keys=[target_env_id])


class Retraining(Base):
    """One retraining started (or skipped, with the reason) by a firing alert or by hand."""

    __tablename__ = "retrainings"
    __table_args__ = (Index("ix_retrainings_monitor_id", "monitor_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitors.id", ondelete="CASCADE"))
    # alert | manual
    trigger: Mapped[str] = mapped_column(String(16))
    alert_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("alert_events.id", ondelete="SET NULL")
    )
    rule: Mapped[str | None] = mapped_column(String(NAME))
    # skipped | running | succeeded | failed
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    job_id: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int | None] = mapped_column(Integer)
    promotion_id: Mapped[int | None] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(NAME))
    created_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
