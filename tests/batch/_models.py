"""Plain Python models (pyfunc flavor) that fail on purpose, importable by worker processes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd


class FailOn:
    """Doubles ``x0``; raises on any batch that holds one of ``bad`` values of ``x0``."""

    def __init__(self, bad: list[float]) -> None:
        self.bad = set(bad)

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        hit = sorted(self.bad.intersection(data["x0"]))
        if hit:
            raise ValueError(f"cannot score x0={hit[0]}")
        return np.asarray(data["x0"]) * 2


class _FailOnce:
    """Doubles ``x0``; the first time any process sees ``value`` in ``x0`` it fails (see
    ``fail``), leaving ``marker`` behind so that the next attempt passes."""

    def __init__(self, value: float, marker: str) -> None:
        self.value = value
        self.marker = marker

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        if (data["x0"] == self.value).any() and not Path(self.marker).exists():
            Path(self.marker).touch()
            self.fail()
        return np.asarray(data["x0"]) * 2

    def fail(self) -> None:
        raise NotImplementedError


class CrashOnce(_FailOnce):
    """Dies on the spot, as an out-of-memory kill would."""

    def fail(self) -> None:
        os._exit(3)


class InterruptOnce(_FailOnce):
    """Raises ``KeyboardInterrupt``, as Ctrl-C would."""

    def fail(self) -> None:
        raise KeyboardInterrupt


class Twice:
    """Doubles ``n``, keeping its dtype (so the output shows what the model was given)."""

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return np.asarray(data["n"]) * 2


class Slow:
    """Doubles ``x0``, a second per batch: a job that is still running when it is killed."""

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        import time

        time.sleep(1.0)
        return np.asarray(data["x0"]) * 2
