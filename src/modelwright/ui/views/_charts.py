"""Charts of the operations pages: series over time as the page's script draws them (uPlot),
and reference-versus-current histograms drawn on the server as SVG."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from starlette.responses import JSONResponse

from modelwright.monitors.report_models import Histogram

__all__ = ["PairedBar", "paired_bars", "time_series"]

# A histogram's drawing, in the units of its SVG viewBox.
WIDTH, HEIGHT = 300.0, 80.0


def time_series(
    points: Iterable[tuple[datetime, str, float | None]],
    window: tuple[datetime, datetime] | None = None,
) -> JSONResponse:
    """``(when, series label, value)`` points as one chart's columns: the times (seconds since
    the epoch, which the page's script shows in the viewer's zone) and a column a label; a
    label without a value at a time leaves a gap there. ``window``: the time axis's span
    (default: the points')."""
    rows = list(points)
    times = sorted({when.timestamp() for when, _, _ in rows})
    index = {t: i for i, t in enumerate(times)}
    columns: dict[str, list[float | None]] = {}
    for when, label, value in rows:
        column = columns.setdefault(label, [None] * len(times))
        # JSON has no NaN or infinity: a gap.
        column[index[when.timestamp()]] = value if value is None or math.isfinite(value) else None
    body = {
        "x": times,
        "series": [{"label": k, "values": v} for k, v in sorted(columns.items())],
        "range": [window[0].timestamp(), window[1].timestamp()] if window else None,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class PairedBar:
    """One bin of a reference-versus-current histogram: two bars side by side (SVG
    attributes, no inline style), each the bin's share of its side's rows."""

    label: str
    x: float
    width: float
    reference: float
    current: float
    reference_y: float
    current_y: float


def paired_bars(histogram: Histogram) -> list[PairedBar]:
    top = max([*histogram.reference, *histogram.current, 0.0]) or 1.0
    slot = WIDTH / max(len(histogram.labels), 1)
    width = max(slot / 2 - 1, 0.5)
    return [
        PairedBar(
            label=label,
            x=round(i * slot, 2),
            width=round(width, 2),
            reference=ref,
            current=cur,
            reference_y=round(HEIGHT - HEIGHT * ref / top, 2),
            current_y=round(HEIGHT - HEIGHT * cur / top, 2),
        )
        for i, (label, ref, cur) in enumerate(
            zip(histogram.labels, histogram.reference, histogram.current, strict=False)
        )
    ]
