"""Load shedding, adaptive micro-batching and data capture, over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd
from tests.serving.conftest import AppServer

from modelwright.registry.predict import LoadedModel
from modelwright.serving import Capture, ServingConfig, create_model_app
from modelwright.serving.app import ModelServer


async def _fire(url: str, n: int, *, start: int = 0) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=n)) as client:
        return list(
            await asyncio.gather(
                *(
                    client.post(url, json={"dataframe_records": [{"x": float(start + i)}]})
                    for i in range(n)
                )
            )
        )


def test_full_queue_sheds_with_503_and_retry_after(
    slow_model: Callable[[float], LoadedModel],
) -> None:
    config = ServingConfig(max_queue=2)
    with AppServer(create_model_app(slow_model(0.2), name="slow", version=1, config=config)) as srv:
        responses = asyncio.run(_fire(f"{srv.url}/invocations", 12))
        codes = sorted(r.status_code for r in responses)
        assert codes.count(200) >= 2 and codes.count(503) >= 6, codes
        shed = next(r for r in responses if r.status_code == 503)
        assert shed.headers["retry-after"] == "1"
        assert shed.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert "overloaded" in shed.json()["message"]
        for r in responses:
            if r.status_code == 200:
                assert len(r.json()["predictions"]) == 1
        # Once the queue drains it serves again.
        ok = httpx.post(f"{srv.url}/invocations", json={"dataframe_records": [{"x": 1.0}]})
        assert ok.status_code == 200
        metrics = httpx.get(f"{srv.url}/metrics").text
        assert (
            f'modelwright_serving_errors_total{{error_class="shed"}} {codes.count(503)}.0'
            in metrics
        )


def test_micro_batching_merges_concurrent_requests(
    slow_model: Callable[[float], LoadedModel],
) -> None:
    model = slow_model(0.05)
    config = ServingConfig(max_batch_size=8, max_latency_ms=100, max_queue=100)
    with AppServer(create_model_app(model, name="slow", version=1, config=config)) as srv:
        responses = asyncio.run(_fire(f"{srv.url}/invocations", 16, start=10))
        # Each caller gets its own row's answer back.
        assert [r.json()["predictions"] for r in responses] == [[2.0 * (10 + i)] for i in range(16)]
        assert max(model.raw.calls) > 1 and sum(model.raw.calls) == 16
        assert len(model.raw.calls) < 16
        metrics = httpx.get(f"{srv.url}/metrics").text
        assert "modelwright_serving_batch_size_count" in metrics


def test_batching_is_off_by_default(slow_model: Callable[[float], LoadedModel]) -> None:
    model = slow_model(0.01)
    with AppServer(create_model_app(model, name="slow", version=1)) as srv:
        asyncio.run(_fire(f"{srv.url}/invocations", 6))
    assert model.raw.calls == [1] * 6


def test_capture_writes_parquet_tagged_with_request_ids(
    churn_model: LoadedModel, tmp_path: Path
) -> None:
    capture = Capture(
        str(tmp_path / "store"),
        endpoint="churn-ep",
        deployment="blue",
        model="models:/churn/1",
        rate=1.0,
        flush_seconds=0.2,
    )
    app = create_model_app(churn_model, name="churn", version=1, capture=capture)
    with AppServer(app) as srv:
        for i in range(5):
            r = httpx.post(
                f"{srv.url}/invocations",
                json={"dataframe_records": [{"tenure": 0.1 * i, "calls": i}]},
                headers={"x-request-id": f"req-{i}"},
            )
            assert r.status_code == 200
        httpx.post(f"{srv.url}/invocations", json={"dataframe_records": [{"tenure": 1.0}]})
    # Shutting the server down flushed the writer.
    files = sorted((tmp_path / "store" / "capture" / "churn-ep" / "blue").glob("date=*/*.parquet"))
    assert files
    frame = pd.concat([pd.read_parquet(f) for f in files])
    assert set(frame["request_id"]) >= {f"req-{i}" for i in range(5)}
    assert sorted(frame["status"].tolist()) == [200] * 5 + [400]
    row = frame[frame["request_id"] == "req-2"].iloc[0]
    assert '"calls":2' in row["request"] and "predictions" in row["response"]


def test_capture_sampling_and_never_failing(churn_model: LoadedModel, tmp_path: Path) -> None:
    # An unwritable destination: requests still succeed, the records are counted as dropped.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    capture = Capture(
        str(blocker), endpoint="e", deployment="d", model="m", rate=1.0, flush_seconds=0.05
    )
    app = create_model_app(churn_model, name="churn", version=1, capture=capture)
    with AppServer(app) as srv:
        for _ in range(3):
            r = httpx.post(
                f"{srv.url}/invocations", json={"dataframe_records": [{"tenure": 0.1, "calls": 1}]}
            )
            assert r.status_code == 200
    assert isinstance(app, ModelServer)
    assert app.metrics.capture_dropped._value.get() == 3
    half = Capture(str(tmp_path / "s"), endpoint="e", deployment="d", model="m", rate=0.5)
    share = sum(half.sampled() for _ in range(4000)) / 4000
    half.close()
    assert 0.45 < share < 0.55
    never = Capture(str(tmp_path / "s"), endpoint="e", deployment="d", model="m", rate=0.0)
    assert not any(never.sampled() for _ in range(100))
    never.close()
