"""The entry point of a packaged model: a small ASGI app served by uvicorn.

``GET /health`` answers once the model is loaded; ``POST /invocations`` takes
``{"dataframe_split": ...}``, ``{"dataframe_records": ...}`` or ``{"instances": ...}``,
validates it against the signature and answers ``{"predictions": [...]}``. Plain ASGI (no
framework) keeps the hot path short; the endpoint router of a later release builds on it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.registry.artifact import load_dir
from modelwright.registry.predict import LoadedModel, parse_payload

__all__ = ["create_app", "load_packaged", "main"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
MAX_BODY = 64 * 1024 * 1024


def load_packaged(
    model_dir: Path, *, digest: str | None = None, trusted: bool = False
) -> LoadedModel:
    raw, manifest = load_dir(model_dir, expected_digest=digest, trusted=trusted)
    return LoadedModel(raw=raw, manifest=manifest, digest=digest)


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="records")
    if isinstance(value, pd.Series):
        return value.tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


async def _send_json(send: Send, status: int, body: Any) -> None:
    data = orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY:
            raise InvalidInput(f"body: larger than {MAX_BODY} bytes")
    return bytes(body)


async def _invoke(model: LoadedModel, receive: Receive) -> tuple[int, Any]:
    try:
        body = await _read_body(receive)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body: not JSON ({exc})") from None
        predictions = model.predict(parse_payload(payload, model.signature))
    except ModelwrightError as exc:
        return exc.status, exc.to_body()
    except Exception as exc:
        message = f"prediction failed: {type(exc).__name__}: {exc}"
        return 400, _error("invalid_input", message)
    return 200, {"predictions": _jsonable(predictions)}


def create_app(model: LoadedModel) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path in ("/health", "/ping") and method == "GET":
            status, body = 200, {"status": "ok", "flavor": model.manifest.flavor}
        elif path != "/invocations":
            status, body = 404, _error("not_found", f"no route {path}")
        elif method != "POST":
            status, body = 405, _error("method_not_allowed", "POST /invocations")
        else:
            status, body = await _invoke(model, receive)
        await _send_json(send, status, body)

    return app


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": {}}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a packaged modelwright model.")
    parser.add_argument("--model-dir", type=Path, default=Path(__file__).parent / "model")
    parser.add_argument("--digest", default=os.environ.get("MODELWRIGHT_MODEL_DIGEST"))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="Allow flavors whose loading runs code from the artifact (the packager sets it).",
    )
    args = parser.parse_args(argv)
    import uvicorn

    model = load_packaged(args.model_dir, digest=args.digest, trusted=args.trust_pickle)
    uvicorn.run(create_app(model), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
