"""The serving configuration of a deployment (declared with the endpoint metadata)."""

from __future__ import annotations

from modelwright.endpoints.models import ServingConfig

__all__ = ["ServingConfig"]
