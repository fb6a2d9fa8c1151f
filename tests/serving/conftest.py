"""Model servers on real uvicorn servers bound to free loopback ports."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from modelwright.registry.artifact import load_dir, save_dir
from modelwright.registry.predict import LoadedModel
from modelwright.registry.signature import infer_signature

pytest.importorskip("sklearn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppServer:
    """An ASGI app on a real uvicorn server in a thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def raw_request(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is; (status, headers, body) of the answer, read to the end."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
    return int(status_line.split()[1]), headers, body


def training_frame(n: int = 80) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"tenure": rng.normal(size=n), "calls": rng.integers(0, 5, size=n)})
    y = (x["tenure"] + 0.3 * x["calls"] > 0.5).astype(int).to_numpy()
    return x, y


def saved_model(model: Any, example: Any, path: Path) -> tuple[Path, str]:
    """``model`` saved as a registry artifact in ``path``; its manifest digest."""
    signature = infer_signature(example, model.predict(example))
    _, data = save_dir(model, path, signature=signature)
    import hashlib

    return path, hashlib.sha256(data).hexdigest()


def loaded(path: Path, digest: str) -> LoadedModel:
    raw, manifest = load_dir(path, expected_digest=digest, trusted=True)
    return LoadedModel(raw=raw, manifest=manifest, digest=digest)


@pytest.fixture
def churn_model(tmp_path: Path) -> LoadedModel:
    from sklearn.linear_model import LogisticRegression

    x, y = training_frame()
    path, digest = saved_model(LogisticRegression().fit(x, y), x[:5], tmp_path / "churn")
    return loaded(path, digest)


class SlowModel:
    """Sleeps per predict call and remembers the batch sizes it saw."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls: list[int] = []

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        time.sleep(self.seconds)
        self.calls.append(len(data))
        return np.asarray(data["x"]) * 2


@pytest.fixture
def slow_model() -> Callable[[float], LoadedModel]:
    from modelwright.registry.artifact import Manifest
    from modelwright.registry.signature import Signature, infer_schema

    def make(seconds: float) -> LoadedModel:
        schema = infer_schema(pd.DataFrame({"x": [1.0]}))
        manifest = Manifest(
            flavor="pyfunc", flavor_meta={}, signature=Signature(inputs=schema), files=[]
        )
        return LoadedModel(raw=SlowModel(seconds), manifest=manifest)

    return make


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client
