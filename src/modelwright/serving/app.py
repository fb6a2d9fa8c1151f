"""The model server of one deployment: a plain ASGI app over a model loaded once.

Routes: the Open Inference Protocol (KServe V2) REST API under ``/v2`` (errors as
``{"error": "<message>"}``, as the protocol says), MLflow's scoring protocol on ``POST
/invocations`` and ``GET /version`` (errors as MLflow's scoring server gives them,
``{"error_code": "BAD_REQUEST", "message": …}``), ``/metrics``, ``/ping``. Bad input is
always a 4xx naming the problem; a full queue is 503 with ``Retry-After``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pandas as pd

from modelwright import __version__
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.registry.predict import LoadedModel
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
from modelwright.serving._errors import Protocol, error_body
from modelwright.serving.capture import Capture
from modelwright.serving.config import ServingConfig
from modelwright.serving.invocations import (
    CONTENT_TYPES,
    params_method,
    parse_csv,
    parse_payload,
    split_params,
)
from modelwright.serving.metrics import ServerMetrics
from modelwright.serving.oip import (
    HEADER_LENGTH,
    check_requested,
    encode_response,
    output_names,
    read_request,
    tensor_metadata,
    to_model_input,
)
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
    content_type: bytes | None = None  # None: ``body`` is JSON to serialise


def _fail(status: int, code: str, message: str, protocol: Protocol) -> _Reply:
    return _Reply(status, error_body(status, code, message, protocol))


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
        # Refused before serving anything: every request would fail.
        model.require_method(self.config.method, "config.method")
        self.methods = model.methods
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
        if reply.content_type is None:
            data = await send_json(send, reply.status, reply.body, headers=headers)
        else:
            data = reply.body
            await send_bytes(
                send, reply.status, data, content_type=reply.content_type, headers=headers
            )
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

    async def _route(  # noqa: PLR0911, PLR0912 -- one return per route keeps the table readable
        self, scope: Scope, receive: Receive, path: str, method: str, request_id: str
    ) -> tuple[str, _Reply, bytes | None]:
        """(route label for metrics, reply, the request body if it was an inference)."""
        if path == "/invocations":
            if method != "POST":
                msg = "method: use POST for /invocations"
                return "invocations", _fail(405, "method_not_allowed", msg, "mlflow"), None
            return await self._inference(scope, receive, self._invocations, "mlflow", request_id)
        if path == "/version" and method == "GET":
            # As MLflow's scoring server answers it: the bare version string.
            reply = _Reply(200, __version__.encode(), content_type=b"text/plain; charset=utf-8")
            return "health", reply, None
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
            return "other", _fail(404, "not_found", f"no route {path}", "oip"), None
        parts = path[len("/v2/models/") :].split("/")
        name, rest = parts[0], parts[1:]
        version = None
        if rest[:1] == ["versions"] and len(rest) >= 2:
            version, rest = rest[1], rest[2:]
        if name != self.name:
            msg = f"model '{name}' not found (this server serves '{self.name}')"
            return "metadata", _fail(404, "not_found", msg, "oip"), None
        if version is not None and version != self.version:
            msg = (
                f"version '{version}' of model '{name}' not found "
                f"(this server serves version {self.version})"
            )
            return "metadata", _fail(404, "not_found", msg, "oip"), None
        if rest == [] and method == "GET":
            meta = {
                "name": self.name,
                "versions": [self.version],
                "platform": self.model.manifest.flavor,
            }
            outputs = tensor_metadata(self.model.signature, self.config.method)
            return "metadata", _Reply(200, {**meta, **outputs}), None
        if rest == ["ready"] and method == "GET":
            return "health", _Reply(200, {"name": self.name, "ready": True}), None
        if rest == ["infer"]:
            if method != "POST":
                return "infer", _fail(405, "method_not_allowed", "use POST for infer", "oip"), None
            return await self._inference(scope, receive, self._infer, "oip", request_id)
        return "other", _fail(404, "not_found", f"no route {method} {path}", "oip"), None

    async def _inference(
        self,
        scope: Scope,
        receive: Receive,
        handler: _Handler,
        protocol: Protocol,
        request_id: str,
    ) -> tuple[str, _Reply, bytes | None]:
        route = "infer" if protocol == "oip" else "invocations"
        request = _Request(scope, request_id)
        problem = self._content_type_problem(request.content_type, protocol)
        if problem is not None:
            return route, _fail(415, "unsupported_media_type", problem, protocol), None
        length = header(scope, b"content-length")
        limit = self.config.max_body_bytes
        too_large = f"body: larger than the limit of {limit} bytes"
        if length is not None and length.isdigit() and int(length) > limit:
            return route, _fail(413, "too_large", too_large, protocol), None
        try:
            body = await read_body(receive, limit)
        except BodyTooLarge:
            return route, _fail(413, "too_large", too_large, protocol), None
        if not self.predictor.admit():
            msg = f"overloaded: {self.config.max_queue} requests queued; retry shortly"
            reply = _fail(503, "unavailable", msg, protocol)
            reply.headers = [(b"retry-after", b"1")]
            return route, reply, None
        try:
            reply = await handler(body, request)
        except ModelwrightError as exc:
            reply = _fail(exc.status, exc.code, exc.message, protocol)
        except Exception as exc:
            msg = f"prediction failed: {type(exc).__name__}: {exc}"
            reply = _fail(500, "internal", msg, protocol)
        finally:
            self.predictor.release()
        return route, reply, body

    @staticmethod
    def _content_type_problem(content_type: str, protocol: Protocol) -> str | None:
        media, *params = (p.strip() for p in content_type.split(";"))
        media = media.lower()
        if protocol == "oip":
            # Triton's clients send no content type, and binary data as an octet stream.
            accepted: tuple[str, ...] = (_JSON, "application/octet-stream")
            if media in ("", *accepted):
                return None
            return f"content type: expected {' or '.join(accepted)} or none, got {media}"
        accepted = CONTENT_TYPES
        if media not in accepted:
            return f"content type: expected {' or '.join(accepted)}, got {media or 'none'}"
        for param in params:
            key, _, value = param.partition("=")
            key, value = key.strip().lower(), value.strip().strip('"').lower()
            if key != "charset":
                return f"content type: unexpected parameter {key!r} (only charset is read)"
            if value not in ("utf-8", "utf8"):
                return f"content type: charset {value!r} is not supported (send UTF-8)"
        return None

    def _validate(self, data: Any) -> Any:
        signature = self.model.signature
        if isinstance(data, pd.DataFrame) and signature is not None:
            _check_nulls(data, signature.inputs.columns)
        return self.model.validate(data)

    async def _invocations(self, body: bytes, request: _Request) -> _Reply:
        signature = self.model.signature
        method: str = self.config.method
        if request.content_type.split(";")[0].strip().lower() == "text/csv":
            data: Any = self._validate(parse_csv(body, signature))
        else:
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise InvalidInput(
                    f"body: not valid JSON ({exc})", details={"field": "body"}
                ) from None
            # Params choose the prediction method (MLflow's ``params``); others are ignored.
            plain, params = split_params(payload)
            method = params_method(params, method, self.methods)
            data = self.predictor.fast.parse(plain) if self.predictor.fast else None
            if data is None:
                data = self._validate(parse_payload(plain, signature))
        predictions = await self.predictor.predict(data, method)
        return _Reply(200, {"predictions": _jsonable(predictions)})

    async def _infer(self, body: bytes, request: _Request) -> _Reply:
        signature = self.model.signature
        infer = read_request(body, header(request.scope, HEADER_LENGTH.encode()))
        # ``parameters.method`` chooses the prediction method, as ``params`` does above.
        method = params_method(infer.parameters, self.config.method, self.methods, "parameters")
        advertised = output_names(signature, method)
        if advertised is not None:
            check_requested(infer, advertised)  # before predicting, not after
        data = self._validate(to_model_input(infer, signature))
        predictions = await self.predictor.predict(data, method)
        head = {
            "model_name": self.name,
            "model_version": self.version,
            "id": infer.id if infer.id is not None else request.request_id,
        }
        content, json_length = encode_response(predictions, infer, head)
        if json_length is None:
            return _Reply(200, content, content_type=_JSON.encode())
        return _Reply(
            200,
            content,
            [(HEADER_LENGTH.encode(), str(json_length).encode())],
            content_type=b"application/octet-stream",
        )


@dataclass(frozen=True)
class _Request:
    scope: Scope
    request_id: str

    @property
    def content_type(self) -> str:
        return header(self.scope, b"content-type") or ""


_Handler = Callable[[bytes, _Request], Awaitable[_Reply]]


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
