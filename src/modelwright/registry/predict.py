"""A loaded model: the flavor's object, its signature, and prediction with input validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelwright.errors import InvalidInput
from modelwright.registry.artifact import Manifest
from modelwright.registry.flavors import get_flavor
from modelwright.registry.flavors.base import Flavor
from modelwright.registry.signature import Signature, validate_input

__all__ = ["LoadedModel", "parse_payload"]


@dataclass
class LoadedModel:
    """What ``load_model`` returns. ``raw`` is the library's own object (an estimator, a
    booster, a module); ``predict`` validates the input against the signature first."""

    raw: Any
    manifest: Manifest
    digest: str | None = None
    uri: str | None = None

    @property
    def flavor(self) -> Flavor:
        return get_flavor(self.manifest.flavor)

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    def validate(self, data: Any) -> Any:
        if self.signature is None:
            return data
        return validate_input(self.signature.inputs, data)

    def predict(self, data: Any, *, validate: bool = True) -> Any:
        if validate:
            data = self.validate(data)
        return self.flavor.predict(self.raw, data)

    def scores(self, data: Any) -> Any:
        """Probabilities where the model has them, else its predictions: the positive
        class's for a binary model, one column per class (in ``classes_`` order) for more."""
        import numpy as np

        data = self.validate(data)
        proba = getattr(self.raw, "predict_proba", None)
        if callable(proba):
            out = np.asarray(proba(data))
            return out[:, -1] if out.ndim == 2 and out.shape[1] <= 2 else out
        return self.flavor.predict(self.raw, data)

    def __repr__(self) -> str:
        return f"<LoadedModel {self.uri or '-'} {self.manifest.flavor} {type(self.raw).__name__}>"


def parse_payload(payload: Any, signature: Signature | None) -> Any:
    """``{"dataframe_split": {"columns": [...], "data": [[...]]}}``, ``{"dataframe_records":
    [{...}]}`` or ``{"instances": [...]}`` → a DataFrame or an array the model takes."""
    import numpy as np
    import pandas as pd

    if not isinstance(payload, dict) or len(payload) != 1:
        raise InvalidInput(
            "body: expected one of dataframe_split, dataframe_records or instances",
            details={"field": "body"},
        )
    ((key, value),) = payload.items()
    tabular = signature is not None and signature.inputs.kind == "dataframe"
    if key == "dataframe_split":
        if not isinstance(value, dict) or "data" not in value:
            raise InvalidInput(
                'dataframe_split: expected {"columns": [...], "data": [[...], ...]}',
                details={"field": "dataframe_split"},
            )
        return pd.DataFrame(value["data"], columns=value.get("columns"))
    if key == "dataframe_records":
        return pd.DataFrame.from_records(value)
    if key in ("instances", "inputs"):
        if tabular and isinstance(value, list) and value and isinstance(value[0], dict):
            return pd.DataFrame.from_records(value)
        if tabular and signature is not None:
            return pd.DataFrame(value, columns=[c.name for c in signature.inputs.columns])
        dtype = signature.inputs.dtype if signature is not None else None
        return np.asarray(value, dtype=dtype or None)
    raise InvalidInput(
        f"body: unknown key {key!r} (dataframe_split, dataframe_records or instances)",
        details={"field": "body"},
    )
