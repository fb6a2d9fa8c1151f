"""A monitor's report: per-feature reference-versus-current histograms, drift statistics over
time, the quality table and the alerts, as data and as one self-contained HTML page (inline
CSS and SVG drawn here: it opens without a network). Every value is escaped."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from modelwright.monitors.models import MonitorResult
from modelwright.monitors.report_models import Histogram, MonitorReport

__all__ = ["Histogram", "MonitorReport", "histograms", "render_html"]

_BINS = 20
_TOP = 20


def histograms(
    reference: pd.DataFrame, current: pd.DataFrame, features: list[str]
) -> list[Histogram]:
    """Shares per bin of both frames, on bins of the reference and current together."""
    out = []
    for name in features:
        ref = reference[name] if name in reference else pd.Series(dtype=float)
        cur = current[name] if name in current else pd.Series(dtype=float)
        if pd.api.types.is_numeric_dtype(ref) and not pd.api.types.is_bool_dtype(ref):
            both = pd.concat([ref, cur]).astype(float)
            both = both[np.isfinite(both)]
            lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
            edges = np.linspace(lo, hi if hi > lo else lo + 1.0, _BINS + 1)
            labels = [f"{a:.3g}" for a in edges[:-1]]
            out.append(
                Histogram(feature=name, kind="numeric", labels=labels,
                          reference=_shares(ref, edges), current=_shares(cur, edges))
            )  # fmt: skip
        else:
            top = list(pd.concat([ref, cur]).astype(str).value_counts().index[:_TOP])
            out.append(
                Histogram(feature=name, kind="categorical", labels=top,
                          reference=_cat_shares(ref, top), current=_cat_shares(cur, top))
            )  # fmt: skip
    return out


def _shares(values: pd.Series[Any], edges: Any) -> list[float]:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    counts, _ = np.histogram(v, bins=edges)
    return [float(c) / len(v) if len(v) else 0.0 for c in counts]


def _cat_shares(values: pd.Series[Any], labels: list[str]) -> list[float]:
    counts = values.astype(str).value_counts()
    total = len(values)
    return [float(counts.get(label, 0)) / total if total else 0.0 for label in labels]


# -- HTML -------------------------------------------------------------------------------------
_CSS = (
    "body{font-family:sans-serif;max-width:70rem;margin:2rem auto;line-height:1.4}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
    ".ref{fill:#4e79a7;fill-opacity:.6}.cur{fill:#e15759;fill-opacity:.6}"
    ".line{fill:none;stroke:#4e79a7;stroke-width:1.5}.limit{stroke:#e15759;stroke-dasharray:4}"
    "figure{display:inline-block;margin:.5rem}svg text{font-size:10px}"
)


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value), quote=True)


def _svg_histogram(h: Histogram, width: int = 320, height: int = 140) -> str:
    n = max(len(h.labels), 1)
    top = max([*h.reference, *h.current, 1e-9])
    slot = width / n
    bars = []
    for i, label in enumerate(h.labels):
        for j, (share, cls) in enumerate(((h.reference[i], "ref"), (h.current[i], "cur"))):
            bh = share / top * (height - 20)
            x = i * slot + j * slot / 2
            bars.append(
                f'<rect class="{cls}" x="{x:.1f}" y="{height - 15 - bh:.1f}" '
                f'width="{slot / 2:.1f}" height="{bh:.1f}"><title>{_e(label)}: '
                f"{'reference' if cls == 'ref' else 'current'} {share:.3f}</title></rect>"
            )
    return (
        f'<svg class="histogram" width="{width}" '
        f'height="{height}" role="img" aria-label="{_e(h.feature)}">{"".join(bars)}'
        f'<text x="0" y="{height - 2}">{_e(h.labels[0] if h.labels else "")}</text>'
        f'<text x="{width}" y="{height - 2}" text-anchor="end">'
        f"{_e(h.labels[-1] if h.labels else '')}</text></svg>"
    )


def _svg_series(points: list[MonitorResult], width: int = 320, height: int = 100) -> str:
    values = [p.value for p in points if p.value is not None]
    if not values:
        return "<p>no data</p>"
    limit = next((p.threshold for p in points if p.threshold is not None), None)
    lo = min([*values, *([limit] if limit is not None else [])])
    hi = max([*values, *([limit] if limit is not None else [])])
    span = hi - lo or 1.0

    def y(v: float) -> float:
        return height - 5 - (v - lo) / span * (height - 10)

    step = width / max(len(values) - 1, 1)
    path = " ".join(f"{i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
    line = (
        f'<line class="limit" x1="0" x2="{width}" y1="{y(limit):.1f}" y2="{y(limit):.1f}"/>'
        if limit is not None
        else ""
    )
    return (
        f'<svg class="series" width="{width}" '
        f'height="{height}">{line}<polyline class="line" points="{path}"/></svg>'
    )


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def render_html(report: MonitorReport) -> str:
    """The report as one page with no external resource."""
    m = report.monitor
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>Monitor report: {_e(m.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Monitor report: {_e(m.name)}</h1>",
        f"<p>{_e(m.workspace)}/{_e(m.environment)}, "
        + (
            f"endpoint <code>{_e(m.endpoint)}</code>, "
            if m.endpoint is not None
            else f"dataset series <code>{_e(m.dataset)}</code>, "
        )
        + f"baseline <code>{_e(m.baseline)}</code>; window {_e(report.since)} – "
        f"{_e(report.until)}; status {_e(m.status)}.</p>",
        "<h2>Reference versus current</h2>",
        f"<p>{_e(report.reference_rows)} baseline row(s) against {_e(report.current_rows)} "
        "captured row(s).</p>",
        *(f"<p class='note'>{_e(n)}</p>" for n in report.notes),
        "<p><svg width='10' height='10'><rect class='ref' width='10' height='10'/></svg> "
        "reference <svg width='10' height='10'><rect class='cur' width='10' height='10'/>"
        "</svg> current</p>",
    ]
    for h in report.histograms:
        parts.append(
            f"<figure><figcaption>{_e(h.feature)} ({_e(h.kind)})</figcaption>"
            f"{_svg_histogram(h)}</figure>"
        )
    parts.append("<h2>Drift over time</h2>")
    series: dict[tuple[str, str | None], list[MonitorResult]] = {}
    for r in report.history:
        if r.signal == "drift":
            series.setdefault((r.metric, r.feature), []).append(r)
    for (metric, feature), points in series.items():
        label = metric if feature is None else f"{metric} [{feature}]"
        parts.append(f"<figure><figcaption>{_e(label)}</figcaption>{_svg_series(points)}</figure>")
    quality = [r for r in m.latest if r.signal != "drift"]
    parts.append("<h2>Quality (latest evaluation)</h2>")
    parts.append(
        _table(
            ["signal", "metric", "feature", "value", "threshold", "status", "detail"],
            [[r.signal, r.metric, r.feature, r.value, r.threshold, r.status, r.detail]
             for r in quality],
        )
    )  # fmt: skip
    parts.append("<h2>Alerts</h2>")
    parts.append(
        _table(
            ["rule", "condition", "state", "since", "value"],
            [[r.name, r.condition, r.state, r.since, r.value] for r in report.rules],
        )
    )
    parts.append("<h3>Recent transitions</h3>")
    parts.append(
        _table(
            ["evaluated", "rule", "state", "value", "threshold"],
            [[e.evaluated_at, e.rule, e.state, e.value, e.threshold] for e in report.transitions],
        )
    )
    parts.append("</body></html>")
    return "".join(parts)
