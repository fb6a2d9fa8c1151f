"""Requests and responses of garbage collection."""

from __future__ import annotations

from pydantic import BaseModel, Field

from modelwright.core.models import Request

__all__ = ["CollectGarbage", "GarbageReport", "StoreSweep"]


class CollectGarbage(Request):
    dry_run: bool = Field(
        default=False, description="Only report what would be freed; delete nothing."
    )


class StoreSweep(BaseModel):
    """One store swept: the artifact store, or the datastores sharing one location."""

    store: str = Field(description="'artifact store', or the datastores kept there.")
    location: str
    objects: int = Field(default=0, description="Objects found in the store.")
    live: int = Field(default=0, description="Objects a live record names: kept.")
    recent: int = Field(
        default=0, description="Unnamed objects written within the grace period: kept."
    )
    freed: int = Field(default=0, description="Objects deleted (with dry_run: that would be).")
    bytes_freed: int = 0
    digests: list[str] = Field(
        default_factory=list, description="The freed objects (the first 1,000)."
    )
    error: str = Field(default="", description="Why the store was not swept, if it was not.")


class GarbageReport(BaseModel):
    dry_run: bool
    grace_minutes: float
    objects_freed: int
    bytes_freed: int
    stores: list[StoreSweep]
