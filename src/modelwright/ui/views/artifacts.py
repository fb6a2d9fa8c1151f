"""A run's artifacts: bounded previews, never the whole file.

A preview reads at most ``_TEXT_BYTES`` of text (JSON, CSV, logs) or the first rows of a
Parquet file's first row group; images and HTML come from ``…/raw`` with headers that keep
them inert (HTML only inside a sandboxed frame, with a CSP sandbox of its own).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import mimetypes
from dataclasses import dataclass, field
from typing import IO, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from modelwright.api import tracking as tr_ops
from modelwright.errors import InvalidInput, NotFound
from modelwright.ui.views._base import Endpoint, Me, signed_in

__all__ = ["ROUTES"]

_TEXT_BYTES = 64 * 1024
_TABLE_ROWS = 50
_RAW_BYTES = 10 * 1024 * 1024
_IMAGES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


@dataclass
class Preview:
    kind: str  # "table", "json", "text", "image", "html", "none"
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    text: str = ""
    truncated: bool = False
    note: str = ""


async def _artifact(me: Me) -> tuple[Any, Any]:
    """The run (read as the caller: a run it cannot see is not found) and its artifact."""
    run_id, path = me.request.path_params["run_id"], me.request.path_params["path"]
    run = await me.call(tr_ops.GET_RUN, run_id=run_id)
    found = next((a for a in run.artifacts if a.path == path), None)
    if found is None:
        raise NotFound(f"run '{run_id}' has no artifact '{path}'")
    return run, found


def _suffix(path: str) -> str:
    return path[path.rfind(".") :].lower() if "." in path else ""


def _preview(fh: IO[bytes], path: str, size: int) -> Preview:
    suffix = _suffix(path)
    if suffix in _IMAGES or suffix in (".html", ".htm"):
        return Preview("image" if suffix in _IMAGES else "html")  # shown from …/raw
    if suffix == ".parquet":
        return _parquet(fh)
    head = fh.read(_TEXT_BYTES)
    truncated = size > len(head)
    text = head.decode("utf-8", errors="replace")
    if suffix in (".csv", ".tsv"):
        return _csv(text, "\t" if suffix == ".tsv" else ",", truncated)
    if b"\x00" in head:
        return Preview("none", note="binary file: no preview")
    if suffix == ".json" and not truncated:
        with contextlib.suppress(ValueError):
            return Preview("json", text=json.dumps(json.loads(text), indent=2, sort_keys=True))
    return Preview("text", text=text, truncated=truncated)


def _parquet(fh: IO[bytes]) -> Preview:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(fh)
    names = pf.schema_arrow.names
    if pf.num_row_groups == 0:
        return Preview("table", columns=names)
    batch = next(pf.iter_batches(batch_size=_TABLE_ROWS, row_groups=[0]))
    rows = batch.to_pylist()
    return Preview(
        "table",
        columns=names,
        rows=[[r.get(c) for c in names] for r in rows],
        truncated=pf.metadata.num_rows > len(rows),
        note=f"{pf.metadata.num_rows:,} rows",
    )


def _csv(text: str, delimiter: str, truncated: bool) -> Preview:
    lines = text.splitlines()
    if truncated and lines:
        lines = lines[:-1]  # the last line may be cut
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    body = rows[1 : _TABLE_ROWS + 1]
    more = truncated or len(rows) > len(body) + 1
    return Preview("table", columns=rows[0] if rows else [], rows=body, truncated=more)


@signed_in
async def artifact_page(me: Me) -> Response:
    run, artifact = await _artifact(me)

    def read() -> Preview:
        with me.open_artifact(artifact.digest) as fh:
            return _preview(fh, artifact.path, artifact.size)

    preview = await run_in_threadpool(read)
    return me.render("artifact.html", run=run, artifact=artifact, preview=preview)


@signed_in
async def artifact_raw(me: Me) -> Response:
    """The bytes, for an ``<img>`` or a sandboxed frame: never run as this site's page."""
    _, artifact = await _artifact(me)
    if artifact.size > _RAW_BYTES:
        raise InvalidInput(f"{artifact.path}: {artifact.size:,} bytes is too large to show here")

    def read() -> bytes:
        with me.open_artifact(artifact.digest) as fh:
            return fh.read(_RAW_BYTES)

    body = await run_in_threadpool(read)
    suffix = _suffix(artifact.path)
    kind = _IMAGES.get(suffix) or mimetypes.guess_type(artifact.path)[0] or "text/plain"
    if kind not in _IMAGES.values():
        kind = "text/html" if suffix in (".html", ".htm") else "text/plain"
    headers = {
        # An HTML artifact runs in a unique origin with no script: it cannot reach this site.
        "Content-Security-Policy": "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        "Cache-Control": "no-store",
        "Content-Disposition": "inline",
    }
    return Response(body, media_type=kind, headers=headers)


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/runs/{run_id}/artifacts/{path:path}/raw", artifact_raw, ["GET"]),
    ("/runs/{run_id}/artifacts/{path:path}", artifact_page, ["GET"]),
]
