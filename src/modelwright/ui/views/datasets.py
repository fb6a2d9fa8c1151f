"""Datasets: the list per environment, a dataset's versions, and a version's schema, profile
(histograms and value counts drawn on the server), lineage and diff against another."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from modelwright.api import data as d_ops
from modelwright.api import operations as ops
from modelwright.api import tracking as tr_ops
from modelwright.data.models import Histogram
from modelwright.errors import InvalidInput, ModelwrightError, NotFound
from modelwright.ui.links import dataset_link, model_link
from modelwright.ui.views._base import Endpoint, Me, signed_in

__all__ = ["ROUTES", "Bar", "bars"]

_PAGE = 50
# Lineage shown on a version: its readers, what they made, and where that serves.
_DEPTH = 2
# A histogram's drawing, in the units of its SVG viewBox.
_WIDTH, _HEIGHT = 300.0, 80.0


@dataclass(frozen=True)
class Bar:
    """One bin of a histogram as the template draws it (SVG attributes, no inline style)."""

    x: float
    y: float
    width: float
    height: float
    low: float
    high: float
    count: int


def bars(histogram: Histogram) -> list[Bar]:
    top = max(histogram.counts, default=0) or 1
    width = _WIDTH / max(len(histogram.counts), 1)
    out = []
    for i, count in enumerate(histogram.counts):
        height = _HEIGHT * count / top
        out.append(
            Bar(
                x=round(i * width, 2),
                y=round(_HEIGHT - height, 2),
                width=round(max(width - 1, 0.5), 2),
                height=round(height, 2),
                low=histogram.edges[i],
                high=histogram.edges[i + 1],
                count=count,
            )
        )
    return out


@signed_in
async def datasets(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    view = {k: me.request.query_params.get(k, "") for k in ("environment", "limit", "page_token")}
    info, found = await asyncio.gather(
        me.call(ops.GET_WORKSPACE, workspace=workspace),
        me.call(
            d_ops.LIST_DATASETS,
            workspace=workspace,
            environment=view["environment"] or None,
            limit=view["limit"] or _PAGE,
            page_token=view["page_token"] or None,
        ),
    )
    return me.render(
        "datasets.html",
        workspace=workspace,
        environments=[e.name for e in info.environments],
        datasets=found.items,
        next_token=found.next_page_token,
        view=view,
    )


def _ref(me: Me) -> dict[str, str]:
    return me.path("workspace", "environment", "name")


@signed_in
async def dataset_page(me: Me) -> Response:
    ref = _ref(me)
    detail = await me.call(d_ops.GET_DATASET, **ref)
    return me.render("dataset.html", workspace=ref["workspace"], dataset=detail)


@signed_in
async def version_page(me: Me) -> Response:
    ref = _ref(me)
    workspace = ref["workspace"]
    against = me.request.query_params.get("against", "")
    version, detail = await asyncio.gather(
        me.call(d_ops.GET_DATASET_VERSION, **ref, version=me.request.path_params["version"]),
        me.call(d_ops.GET_DATASET, **ref),
    )
    entity = f"dataset:{version.environment}/{version.name}@v{version.version}"
    lineage = await me.call(
        tr_ops.LINEAGE, workspace=workspace, entity=entity, depth=_DEPTH, impact=True
    )
    # The runs that read it; what came of them further down is the impact.
    readers = {n.id: n for n in lineage.descendants if n.kind == "run" and not n.hidden}
    diff: Any = None
    diff_error: ModelwrightError | None = None
    if against:
        try:
            diff = await me.call(
                d_ops.DIFF_DATASETS,
                workspace=workspace,
                environment=ref["environment"],
                a=f"{ref['name']}@{against}",
                b=version.ref,
            )
        except (InvalidInput, NotFound) as exc:  # the version itself is still worth showing
            diff_error = exc
    return me.render(
        "dataset_version.html",
        diff_error.status if diff_error else 200,
        workspace=workspace,
        d=version,
        history=detail.history,
        readers=list(readers.values()),
        impact=lineage.impact,
        against=against,
        diff=diff,
        diff_error=diff_error,
        bars=bars,
        dataset_link=dataset_link,
        model_link=model_link,
    )


_DATASET = "/w/{workspace}/datasets/{environment}/{name}"

ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/datasets", datasets, ["GET"]),
    (_DATASET, dataset_page, ["GET"]),
    (f"{_DATASET}/{{version}}", version_page, ["GET"]),
]
