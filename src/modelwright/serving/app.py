"""The model server of one deployment: a plain ASGI app over a model loaded once.

Routes: the Open Inference Protocol (KServe V2) REST API under ``/v2`` (errors as
``{"error": "<message>"}``, as the protocol says), MLflow-style ``POST /invocations`` (errors
as the platform's ``{"error": {"code", "message", "details"}}``), ``/metrics``, ``/ping``.
Bad input is always a 4xx naming the problem; a full queue is 503 with ``Retry-After``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from modelwright import __version__
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.registry.predict import LoadedModel, parse_payload
from modelwright.registry.signature import ColumnSpec
from modelwright.serving._asgi import (
    ASGIApp,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    header,
    lifespan,
    read_body,
    send_bytes,
    send_json,
)
from modelwright.serving.capture import Capture
from modelwright.serving.config import ServingConfig
from modelwright.serving.metrics import ServerMetrics
from modelwright.serving.oip import decode_inputs, encode_outputs, tensor_metadata
from modelwright.serving.predictor import Predictor

__all__ = ["REQUEST_ID_HEADER", "SHADOW_HEADER", "ModelServer", "create_model_app"]

REQUEST_ID_HEADER = b"x-request-id"
# Set by the endpoint router on mirrored requests: their answers are discarded by the router,
# so the model server captures every one of them whatever the sampling rate.
SHADOW_HEADER = b"x-modelwright-shadow"
_JSON = "application/json"


@dataclass
class _Reply:
    status: int
    body: Any
    headers: list[tuple[bytes, bytes]] | None = None


def _oip_error(status: int, message: str, **headers: str) -> _Reply:
    return _Reply(
        status, {"error": message}, [(k.encode(), v.encode()) for k, v in headers.items()]
    )


def _platform_error(exc: ModelwrightError) -> _Reply:
    return _Reply(exc.status, exc.to_body())


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series | np.ndarray):
        return value.tolist()
    return value


class ModelServer:
    """The state of one worker: the model, its predictor, metrics and capture."""

    def __init__(
        self,
        model: LoadedModel,
        *,
        name: str,
        version: str,
        config: ServingConfig | None = None,
        capture: Capture | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.version = version
        self.config = config or ServingConfig()
        self.metrics = ServerMetrics()
        self.predictor = Predictor(model, self.config, self.metrics)
        self.capture = capture
        if capture is not None:
            capture.on_drop = self.metrics.capture_dropped.inc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, on_shutdown=self._shutdown)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        request_id = header(scope, REQUEST_ID_HEADER) or uuid.uuid4().hex
        if path == "/metrics" and method == "GET":
            data, content_type = self.metrics.exposition()
            await send_bytes(send, 200, data, content_type=content_type.encode())
            return
        route, reply, body = await self._route(scope, receive, path, method, request_id)
        headers = [(REQUEST_ID_HEADER, request_id.encode()), *(reply.headers or [])]
        data = await send_json(send, reply.status, reply.body, headers=headers)
        elapsed = time.perf_counter() - started
        self.metrics.observe(route, reply.status, elapsed)
        if body is not None and self.capture is not None:
            shadow = header(scope, SHADOW_HEADER) is not None
            if shadow or self.capture.sampled():
                self.capture.record(
                    request_id, body, data, reply.status, elapsed * 1000, shadow=shadow
                )

    async def _shutdown(self) -> None:
        self.predictor.close()
        if self.capture is not None:
            self.capture.close()

    async def _route(  # noqa: PLR0911 -- one return per route keeps the table readable
        self, scope: Scope, receive: Receive, path: str, method: str, request_id: str
    ) -> tuple[str, _Reply, bytes | None]:
        """(route label for metrics, reply, the request body if it was an inference)."""
        if path == "/invocations":
            if method != "POST":
                return (
                    "invocations",
                    _Reply(405, _error("method_not_allowed", "POST /invocations")),
                    None,
                )
            return await self._inference(scope, receive, self._invocations, request_id, oip=False)
        if path in ("/ping", "/health", "/v2/health/live", "/v2/health/ready"):
            key = "ready" if path.endswith("ready") else "live"
            return "health", _Reply(200, {key: True, "status": "ok"}), None
        if path == "/v2":
            return (
                "metadata",
                _Reply(200, {"name": "modelwright", "version": __version__, "extensions": []}),
                None,
            )
        if not path.startswith("/v2/models/"):
            return "other", _oip_error(404, f"no route {path}"), None
        parts = path[len("/v2/models/") :].split("/")
        name, rest = parts[0], parts[1:]
        version = None
        if rest[:1] == ["versions"] and len(rest) >= 2:
            version, rest = rest[1], rest[2:]
        if name != self.name:
            return (
                "metadata",
                _oip_error(404, f"model '{name}' not found (this server serves '{self.name}')"),
                None,
            )
        if version is not None and version != self.version:
            return (
                "metadata",
                _oip_error(
                    404,
                    f"version '{version}' of model '{name}' not found (this server serves version {self.version})",
                ),
                None,
            )
        if rest == [] and method == "GET":
            meta = {
                "name": self.name,
                "versions": [self.version],
                "platform": self.model.manifest.flavor,
            }
            return "metadata", _Reply(200, {**meta, **tensor_metadata(self.model.signature)}), None
        if rest == ["ready"] and method == "GET":
            return "health", _Reply(200, {"name": self.name, "ready": True}), None
        if rest == ["infer"]:
            if method != "POST":
                return "infer", _oip_error(405, "use POST for infer"), None
            return await self._inference(scope, receive, self._infer, request_id, oip=True)
        return "other", _oip_error(404, f"no route {method} {path}"), None

    async def _inference(
        self, scope: Scope, receive: Receive, handler: Any, request_id: str, *, oip: bool
    ) -> tuple[str, _Reply, bytes | None]:
        route = "infer" if oip else "invocations"
        content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != _JSON:
            msg = f"content type: expected {_JSON}, got {content_type or 'none'}"
            return (
                route,
                _oip_error(415, msg) if oip else _Reply(415, _error("unsupported_media_type", msg)),
                None,
            )
        length = header(scope, b"content-length")
        limit = self.config.max_body_bytes
        too_large = f"body: larger than the limit of {limit} bytes"
        if length is not None and length.isdigit() and int(length) > limit:
            return (
                route,
                _oip_error(413, too_large) if oip else _Reply(413, _error("too_large", too_large)),
                None,
            )
        try:
            body = await read_body(receive, limit)
        except BodyTooLarge:
            return (
                route,
                _oip_error(413, too_large) if oip else _Reply(413, _error("too_large", too_large)),
                None,
            )
        if not self.predictor.admit():
            msg = f"overloaded: {self.config.max_queue} requests queued; retry shortly"
            reply = _oip_error(503, msg) if oip else _Reply(503, _error("unavailable", msg))
            reply.headers = [(b"retry-after", b"1")]
            return route, reply, None
        try:
            reply = await handler(body, request_id)
        except ModelwrightError as exc:
            reply = _oip_error(exc.status, exc.message) if oip else _platform_error(exc)
        except Exception as exc:
            msg = f"prediction failed: {type(exc).__name__}: {exc}"
            reply = _oip_error(500, msg) if oip else _Reply(500, _error("internal", msg))
        finally:
            self.predictor.release()
        return route, reply, body

    def _parse_json(self, body: bytes) -> Any:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body: not valid JSON ({exc})", details={"field": "body"}) from None

    def _validate(self, data: Any) -> Any:
        signature = self.model.signature
        if isinstance(data, pd.DataFrame) and signature is not None:
            _check_nulls(data, signature.inputs.columns)
        return self.model.validate(data)

    async def _invocations(self, body: bytes, request_id: str) -> _Reply:
        payload = self._parse_json(body)
        data: Any = self.predictor.fast.parse(payload) if self.predictor.fast else None
        if data is None:
            data = self._validate(parse_payload(payload, self.model.signature))
        predictions = await self.predictor.predict(data)
        return _Reply(200, {"predictions": _jsonable(predictions)})

    async def _infer(self, body: bytes, request_id: str) -> _Reply:
        payload = self._parse_json(body)
        data = self._validate(decode_inputs(payload, self.model.signature))
        predictions = await self.predictor.predict(data)
        out: dict[str, Any] = {
            "model_name": self.name,
            "model_version": self.version,
            "id": str(payload.get("id") or request_id),
            "outputs": encode_outputs(predictions),
        }
        return _Reply(200, out)


def _check_nulls(frame: pd.DataFrame, columns: list[ColumnSpec]) -> None:
    """Nulls in a column of a type that cannot hold them are named as such; in float columns
    they become NaN (JSON has no NaN) and the model decides whether it takes them."""
    # One vectorised pass finds the columns holding nulls; only those are looked at closely.
    holding = frame.isna().any()
    for col in columns:
        if col.name not in frame.columns or not np.any(holding[col.name]):
            continue
        values = frame[col.name]
        nulls = values.isna()
        if col.type in ("integer", "boolean"):
            rows = [int(i) for i in np.flatnonzero(nulls.to_numpy())[:10]]
            raise InvalidInput(
                f"input: column '{col.name}' holds missing values (null/NaN) at rows {rows}; "
                f"the model expects {col.type} ({col.dtype})",
                details={"field": "input", "column": col.name, "problem": "nan", "rows": rows},
            )
        if col.type == "float" and values.dtype == object:
            numeric = pd.to_numeric(values, errors="coerce")
            if numeric.isna().equals(nulls):
                frame[col.name] = numeric.astype("float64")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": {}}}


def create_model_app(
    model: LoadedModel,
    *,
    name: str,
    version: str | int,
    config: ServingConfig | None = None,
    capture: Capture | None = None,
) -> ASGIApp:
    """The ASGI app serving ``model`` as ``name`` version ``version``."""
    return ModelServer(model, name=name, version=str(version), config=config, capture=capture)
