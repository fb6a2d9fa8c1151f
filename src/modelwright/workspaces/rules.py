"""Platform rules about where data may live; shared by the services and platform.yaml."""

from __future__ import annotations

import fsspec
from fsspec.core import split_protocol

__all__ = ["placement_problem", "url_problem"]


def placement_problem(
    environment: str, production: bool, datastore: str, classification: str
) -> str | None:
    """Production data is never reachable from a non-production environment."""
    if classification == "production" and not production:
        return (
            f"datastore '{datastore}' is classified production and cannot be attached to "
            f"non-production environment '{environment}' (production data is never reachable "
            "from non-production environments)"
        )
    return None


def url_problem(url: str) -> str | None:
    if any(ord(c) < 32 for c in url):
        return "url must not contain control characters"
    protocol, _ = split_protocol(url)
    if protocol is not None and protocol not in fsspec.available_protocols():
        return f"url scheme '{protocol}' is not a storage protocol fsspec knows (e.g. file, s3, gs, abfs)"
    return None
