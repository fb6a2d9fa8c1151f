"""The UI's pages, a module a concept; ``ROUTES`` gathers them."""

from __future__ import annotations

from modelwright.ui.views import (
    artifacts,
    compare,
    datasets,
    endpoints,
    governance,
    lineage,
    models,
    monitors,
    pipelines,
    promotions,
    runs,
    signin,
)
from modelwright.ui.views._base import Endpoint

__all__ = ["ROUTES"]

ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    *signin.ROUTES,
    *runs.ROUTES,
    *artifacts.ROUTES,
    *compare.ROUTES,
    *governance.ROUTES,
    *models.ROUTES,
    *datasets.ROUTES,
    *lineage.ROUTES,
    *endpoints.ROUTES,
    *promotions.ROUTES,
    *monitors.ROUTES,
    *pipelines.ROUTES,
]
