"""Prediction off the event loop, with a bounded queue and optional adaptive micro-batching.

Inputs arrive validated. ``admit`` refuses work beyond ``max_queue`` (the caller answers 503);
with ``max_batch_size`` > 1 concurrent requests are merged into one predict call, waiting at
most ``max_latency_ms`` after the first one for the batch to fill. A batch that fails is
retried request by request, so one bad input never fails the others. Only requests for the
same prediction method (``predict``, ``predict_proba``…) are merged.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from modelwright.errors import InvalidInput
from modelwright.registry.predict import LoadedModel
from modelwright.serving.config import ServingConfig
from modelwright.serving.fastpath import NumericRows, NumericTable
from modelwright.serving.metrics import ServerMetrics

__all__ = ["Predictor"]

_Item = tuple[Any, str, "asyncio.Future[Any]"]


class Predictor:
    def __init__(self, model: LoadedModel, config: ServingConfig, metrics: ServerMetrics) -> None:
        self.model = model
        self.config = config
        self.metrics = metrics
        self.pending = 0
        self.fast = NumericTable.of(model.signature)
        self.fast_array = self.fast is not None and self.fast.takes_arrays(model)
        if self.fast_array:
            # The estimator warns that the array has no column names: known, and fine here.
            warnings.filterwarnings(
                "ignore", message="X does not have valid feature names", category=UserWarning
            )
        # One predict at a time per worker process: many models are not thread-safe, and
        # parallelism comes from worker processes.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mw-predict")
        self._queue: asyncio.Queue[_Item] | None = None
        self._batcher: asyncio.Task[None] | None = None

    def admit(self) -> bool:
        if self.pending >= self.config.max_queue:
            return False
        self.pending += 1
        self.metrics.queue_depth.set(self.pending)
        return True

    def release(self) -> None:
        self.pending -= 1
        self.metrics.queue_depth.set(self.pending)

    async def predict(self, data: Any, method: str = "predict") -> Any:
        """``method``'s output for validated ``data`` (call ``admit`` first, ``release``
        after)."""
        if self.config.max_batch_size <= 1:
            self.metrics.batch_size.observe(1)
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._call, data, method)
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._batcher = asyncio.get_running_loop().create_task(self._batch_loop(self._queue))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((data, method, future))
        return await future

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _call(self, data: Any, method: str) -> Any:
        if isinstance(data, NumericRows):
            if self.fast is None:  # only the fast path makes NumericRows
                raise TypeError("numeric rows reached a model server without a fast path")
            data = data.values if self.fast_array else self.fast.frame(data.values)
        try:
            return self.model.predict(data, validate=False, method=method)
        except (ValueError, TypeError) as exc:
            raise _rejected(data, exc) from None

    async def _batch_loop(self, queue: asyncio.Queue[_Item]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [await queue.get()]
            deadline = time.monotonic() + self.config.max_latency_ms / 1000
            while len(items) < self.config.max_batch_size:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    break
                try:
                    items.append(await asyncio.wait_for(queue.get(), timeout))
                except TimeoutError:
                    break
            self.metrics.batch_size.observe(len(items))
            await self._run_batch(loop, items)

    async def _run_batch(self, loop: asyncio.AbstractEventLoop, items: list[_Item]) -> None:
        methods = {m for _, m, _ in items}
        if len(items) > 1 and len(methods) == 1:
            try:
                merged = _concat([d for d, _, _ in items])
                out = await loop.run_in_executor(self._pool, self._call, merged, methods.pop())
                parts = _split(out, [_rows(d) for d, _, _ in items])
            except Exception:
                parts = None
            if parts is not None:
                for (_, _, future), part in zip(items, parts, strict=True):
                    if not future.done():
                        future.set_result(part)
                return
        for data, method, future in items:
            try:
                result = await loop.run_in_executor(self._pool, self._call, data, method)
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(result)


def _rows(data: Any) -> int:
    return len(data)


def _concat(parts: list[Any]) -> Any:
    if all(isinstance(p, NumericRows) for p in parts):
        return NumericRows(np.concatenate([p.values for p in parts]))
    if any(isinstance(p, NumericRows) for p in parts):
        raise TypeError("a batch mixes parsed forms")  # predicted one by one instead
    if all(isinstance(p, pd.DataFrame) for p in parts):
        return pd.concat(parts, ignore_index=True)
    return np.concatenate([np.asarray(p) for p in parts])


def _split(out: Any, sizes: list[int]) -> list[Any] | None:
    if len(out) != sum(sizes):
        return None
    bounds = np.cumsum([0, *sizes])
    if isinstance(out, pd.DataFrame | pd.Series):
        return [out.iloc[a:b] for a, b in itertools.pairwise(bounds)]
    array = np.asarray(out)
    return [array[a:b] for a, b in itertools.pairwise(bounds)]


def _rejected(data: Any, exc: Exception) -> InvalidInput:
    """The model refused the input: name the columns holding NaN if that is the likely cause."""
    if isinstance(data, pd.DataFrame):
        nan = [str(c) for c in data.columns if data[c].isna().any()]
        if nan:
            return InvalidInput(
                f"input: column{'s' if len(nan) > 1 else ''} {', '.join(repr(c) for c in nan)} "
                "holds missing values (NaN/null), which the model cannot take",
                details={"field": "input", "columns": nan, "problem": "nan"},
            )
    elif isinstance(data, np.ndarray) and data.dtype.kind == "f" and np.isnan(data).any():
        return InvalidInput(
            "input: the array holds NaN values, which the model cannot take",
            details={"field": "input", "problem": "nan"},
        )
    return InvalidInput(
        f"input: the model rejected it ({type(exc).__name__}: {exc})",
        details={"field": "input", "problem": "rejected"},
    )
