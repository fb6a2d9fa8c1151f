"""The training data of an autologged fit, recorded on the run by content hash.

A lightweight reference, not a registered dataset version: registering the breast-cancer
frame (Parquet, profile, two transactions) took 23-185 ms on the embedded platform against
about 1.5 ms for this hash, and autologging must stay within a few milliseconds of ``fit``.
Register the frame with ``mw.log_input(frame, name=...)`` to make it a versioned input.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["DIGEST_TAG", "SHAPE_TAG", "training_data_tags", "training_digest"]

DIGEST_TAG = "training_data.digest"
SHAPE_TAG = "training_data.shape"


def training_digest(x: Any, y: Any = None) -> tuple[str, str]:
    """(sha256 of the rows' content, ``"<rows>x<columns>"``) of ``x`` with ``y`` beside it."""
    import numpy as np
    import pandas as pd

    frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x))
    digest = hashlib.sha256()
    digest.update(repr([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    if y is not None:
        target = y if isinstance(y, pd.Series | pd.DataFrame) else pd.Series(np.asarray(y))
        digest.update(pd.util.hash_pandas_object(target, index=False).to_numpy().tobytes())
    columns = frame.shape[1] + (0 if y is None else 1)
    return f"sha256:{digest.hexdigest()}", f"{frame.shape[0]}x{columns}"


def training_data_tags(x: Any, y: Any) -> dict[str, str]:
    digest, shape = training_digest(x, y)
    return {DIGEST_TAG: digest, SHAPE_TAG: shape}
