from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"tenure": rng.normal(size=60), "calls": rng.integers(0, 5, size=60)})
    return x


@pytest.fixture
def labels(frame: pd.DataFrame) -> np.ndarray:
    return (frame["tenure"] + 0.3 * frame["calls"] > 0.5).astype(int).to_numpy()


class Doubler:
    """A plain Python model (pyfunc flavor)."""

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        return np.asarray(data["tenure"]) * 2
