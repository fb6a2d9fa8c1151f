"""The monitor report operation: the data of ``report.render_html``, read where the platform
runs (the baseline's datastore and the endpoint's capture), so every face gets the same page.

Reading the monitor is enough for its values and alerts; the histograms show the data's
distribution, so they are drawn only for a caller who may read the environment's data (and,
for production data, acts in production); otherwise the report says they were left out.
Each side is a random sample of at most ``SAMPLE_ROWS`` rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.pages import every_item
from modelwright.data.manifest import load_manifest
from modelwright.data.tabular import TABULAR, format_of, read_table
from modelwright.errors import InvalidInput, PermissionDenied
from modelwright.monitors import models as mm
from modelwright.monitors._rows import model_features, monitor_row
from modelwright.monitors.alert_models import AlertHistory, ListAlertRules
from modelwright.monitors.alerts import alert_history, list_alert_rules
from modelwright.monitors.capture import decode_requests, read_capture
from modelwright.monitors.report import histograms
from modelwright.monitors.report_models import SAMPLE_ROWS, MonitorReport, MonitorReportRequest
from modelwright.monitors.service import get_monitor, monitor_history
from modelwright.objects.service import check_isolation
from modelwright.store import schema

__all__ = ["monitor_report"]

# As long as a monitor's window may be: the capture of every day it touches is read.
MAX_SPAN = timedelta(days=90)
# Drift values of this long before the window are drawn over time.
HISTORY = timedelta(days=7)
TRANSITIONS = 20


def monitor_report(ctx: Context, req: MonitorReportRequest) -> MonitorReport:
    row = monitor_row(ctx, req)  # NotFound unless the caller may read the monitor
    ref = mm.MonitorRef(workspace=req.workspace, environment=req.environment, name=req.name)
    detail = get_monitor(ctx, ref)
    start, end = _window(req, row.window_seconds)
    columns = [c["name"] for c in row.baseline.schema_ or []]
    served = model_features(row.endpoint) if row.endpoint is not None else None
    features = served or list(detail.features or []) or columns
    reference = current = pd.DataFrame(columns=features)
    notes: list[str] = []
    withheld = _withheld(ctx, row)
    if withheld is not None:
        notes.append(f"histograms left out: {withheld}")
    else:
        reference = _sample(_read_version(ctx, row.baseline, notes), "baseline", notes)
        if row.endpoint is None:  # a dataset series: the versions registered in the window
            current = _sample(_series(ctx, row, start, end, notes), "series", notes)
        else:
            current = _sample(_current(row, features, start, end, notes), "captured", notes)
    history = monitor_history(
        ctx, mm.MonitorHistory(**ref.model_dump(), signal="drift", since=start - HISTORY, until=end)
    ).items
    return MonitorReport(
        monitor=detail,
        since=start.isoformat(),
        until=end.isoformat(),
        histograms=histograms(reference, current, features),
        history=history,
        rules=every_item(list_alert_rules, ctx, ListAlertRules(**ref.model_dump())),
        transitions=alert_history(ctx, AlertHistory(**ref.model_dump(), limit=TRANSITIONS)).items,
        reference_rows=len(reference),
        current_rows=len(current),
        notes=notes,
    )


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _window(req: MonitorReportRequest, default_seconds: int) -> tuple[datetime, datetime]:
    end = utcnow() if req.until is None else _utc(req.until)
    seconds = req.window_seconds or default_seconds
    start = end - timedelta(seconds=seconds) if req.since is None else _utc(req.since)
    if start >= end:
        raise InvalidInput("since: must come before until", details={"field": "since"})
    if end - start > MAX_SPAN:
        raise InvalidInput(
            f"since: the window spans more than {MAX_SPAN.days} days", details={"field": "since"}
        )
    return start, end


def _capture_store(env: schema.Environment) -> schema.Datastore | None:
    # Where the model servers write the capture, as the evaluation plan reads it.
    return env.datastores[0] if env.datastores else None


def _withheld(ctx: Context, row: schema.Monitor) -> str | None:
    """Why the caller may not see the data's distribution (None: it may)."""
    env = row.environment
    ws = env.workspace.name
    if not ctx.allowed(Action.DATA_READ, ws, env.name):
        return f"principal '{ctx.caller.name}' may not read data in {ws}/{env.name} (data.read)"
    stores = [row.baseline.datastore, _capture_store(env)]
    try:
        for store in stores:
            if store is not None:
                check_isolation(ctx, None, store, f"the data of monitor '{row.name}'", "read")
    except PermissionDenied as exc:
        return exc.message
    return None


def _read_version(ctx: Context, version: schema.DatasetVersion, notes: list[str]) -> pd.DataFrame:
    """The version's rows; of a directory, its files in path order until the sample size."""
    import pyarrow as pa

    from modelwright.data._packs import read_entry

    store = ctx.open_store(version.datastore.url)
    if version.kind != "directory":
        with store.open(version.digest) as fh:
            return read_table(fh, version.format).to_pandas()
    tables, rows = [], 0
    entries = sorted(load_manifest(store.get_bytes(version.digest)), key=lambda e: e.path)
    for e in entries:
        fmt = format_of(e.path)
        if fmt not in TABULAR:
            continue
        if rows >= SAMPLE_ROWS:
            notes.append(f"baseline: files read up to {rows} rows, in path order")
            break
        table = read_table(pa.BufferReader(read_entry(store, e)), fmt, f"file '{e.path}'")
        tables.append(table)
        rows += table.num_rows
    if not tables:
        return pd.DataFrame()
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()


def _series(
    ctx: Context, row: schema.Monitor, start: datetime, end: datetime, notes: list[str]
) -> pd.DataFrame:
    V = schema.DatasetVersion
    versions = ctx.session.scalars(
        select(V)
        .join(schema.Dataset)
        .where(
            schema.Dataset.environment_id == row.environment_id,
            schema.Dataset.name == row.dataset,
            V.created_at > start,
            V.created_at <= end,
        )
        .order_by(V.version)
    ).all()
    if not versions:
        notes.append(f"series: no version of {row.dataset} was registered in the window")
        return pd.DataFrame()
    return pd.concat([_read_version(ctx, v, notes) for v in versions], ignore_index=True)


def _current(
    row: schema.Monitor, features: list[str], start: datetime, end: datetime, notes: list[str]
) -> pd.DataFrame:
    store = _capture_store(row.environment)
    if store is None:
        notes.append("captured: the environment has no datastore, so nothing is captured")
        return pd.DataFrame(columns=features)
    if row.endpoint is None:
        return pd.DataFrame(columns=features)
    bodies = read_capture(store.url, row.endpoint.name, start, end)["request"]
    if len(bodies) > SAMPLE_ROWS:  # a request holds one row or more: decode no more than needed
        notes.append(f"captured: a random sample of {SAMPLE_ROWS} of {len(bodies)} requests")
        bodies = bodies.sample(n=SAMPLE_ROWS, random_state=0)
    current, unreadable = decode_requests(bodies, features)
    if unreadable:
        notes.append(f"captured: {unreadable} request(s) could not be read")
    return current


def _sample(frame: pd.DataFrame, side: str, notes: list[str]) -> pd.DataFrame:
    if len(frame) <= SAMPLE_ROWS:
        return frame
    notes.append(f"{side}: a random sample of {SAMPLE_ROWS} of {len(frame)} rows")
    return frame.sample(n=SAMPLE_ROWS, random_state=0).reset_index(drop=True)
