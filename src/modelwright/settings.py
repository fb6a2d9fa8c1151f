"""Settings read from ``MODELWRIGHT_*`` environment variables: the platform's own (where it
keeps its state) and the client's (which platform to talk to, defaults, buffering)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from modelwright.errors import InvalidInput

__all__ = ["ClientSettings", "Settings", "client_settings"]

_PREFIX = "MODELWRIGHT_"


class Settings(BaseSettings):
    """Platform settings.

    ``home`` holds the embedded SQLite database and the default artifact store. ``db_url``
    points at another database (``postgresql+psycopg://user@host/db``); ``artifact_url`` at
    another artifact store (``s3://bucket/prefix``).
    """

    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore")

    home: Path = Field(default=Path(".modelwright"))
    db_url: str | None = None
    artifact_url: str | None = None
    # When true, the in-process backend needs a token too instead of acting as local admin.
    require_auth: bool = False
    # A platform admin who sees no workspace may ask for a ready one (ensure_default_workspace:
    # "default", dev → staging → prod, a datastore each under <home>/data/default), as a
    # first-time embedded user gets; false: the platform makes none.
    default_workspace: bool = True
    # Extra fsspec storage options for the artifact store (e.g. endpoint_url for S3).
    artifact_options: dict[str, object] = Field(default_factory=dict)
    # Where datastores may point (MODELWRIGHT_DATASTORE_ROOTS: comma-separated or a JSON
    # list): local directories and URL prefixes such as "s3://bucket/data" or "s3://". The
    # server opens datastore URLs itself, so whoever runs it decides, not API callers.
    # Unset: "<home>/data" only.
    datastore_roots: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Modules declaring workflows, imported by workers (MODELWRIGHT_WORKFLOW_MODULES:
    # comma-separated or a JSON list), besides the entry points "modelwright.workflows".
    workflow_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # How long the answer to a write sent with an idempotency key is kept, so that a client
    # sending the write again within that time gets the answer instead of a second write.
    idempotency_retention_hours: float = Field(default=24.0, gt=0)
    # A running run whose client sent no heartbeat for this many seconds is shown as lost
    # (its process died without ending it); clients send one every 60 s at least.
    run_lost_after: float = Field(default=600.0, gt=0)
    # Serving statistics written by endpoint routers are kept this long (7 days), then deleted
    # by later writes of the same environment.
    serving_stats_retention_hours: float = Field(default=168.0, gt=0)
    # A deleted run or experiment may be deleted permanently (its rows removed) once it has
    # been deleted this long; until then it can be restored.
    deletion_retention_days: float = Field(default=30.0, ge=0)
    # Garbage collection leaves objects written in the last this many minutes: a
    # registration uploads its objects before it records the version that names them.
    gc_grace_minutes: float = Field(default=60.0, ge=0)

    @field_validator("datastore_roots", "workflow_modules", mode="before")
    @classmethod
    def _roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    # The server refuses bigger uploads (PUT /objects/...) and JSON request bodies with 413,
    # from Content-Length before reading, or as soon as a chunked body passes the limit.
    max_object_bytes: int = Field(default=5 * 1024**3, ge=1)
    # platform.yaml files and metadata requests are small; artifacts never travel this way.
    max_body_bytes: int = Field(default=10 * 1024**2, ge=1)
    # "package.module:function", an ``UploadQuota`` the server asks before accepting an upload.
    upload_quota: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'modelwright.db').resolve()}"

    @property
    def allowed_datastore_roots(self) -> list[str]:
        return self.datastore_roots or [str((self.home / "data").resolve())]

    @property
    def artifacts_url(self) -> str:
        if self.artifact_url:
            return self.artifact_url
        return str((self.home / "artifacts").resolve())


class ClientSettings(BaseSettings):
    """What the SDK and the CLI read from the environment; an empty variable counts as unset.

    Read through ``client_settings()`` when needed (a changed variable counts from the next
    call), which names the variable of a bad value.
    """

    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore", env_ignore_empty=True)

    # A server to talk to instead of an embedded platform, and the token to send it.
    url: str | None = None
    token: str | None = None
    # The default workspace and environment; the environment is also the one acted in.
    workspace: str | None = None
    environment: str | None = None
    # The file-hash cache and downloads (default: beside an embedded platform, else the
    # user's cache directory).
    cache_dir: Path | None = None
    # Seconds between background sends of buffered metrics; how long flushing retries; how
    # long a running run's client may send nothing before it sends a heartbeat.
    flush_interval: float = 1.0
    flush_timeout: float = 120.0
    heartbeat_interval: float = 60.0


def client_settings() -> ClientSettings:
    """The client's settings as the environment says now; ``InvalidInput`` naming the
    variable for a value that does not parse."""
    try:
        return ClientSettings()
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        variable = _PREFIX + str(err["loc"][0]).upper()
        raise InvalidInput(
            f"{variable}: {err['msg']} (got {err.get('input')!r})",
            details={"variable": variable},
        ) from None
