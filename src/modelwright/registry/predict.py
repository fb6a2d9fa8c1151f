"""A loaded model: the flavor's object, its signature, and prediction with input validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelwright.errors import InvalidInput
from modelwright.registry.artifact import Manifest
from modelwright.registry.flavors import get_flavor
from modelwright.registry.flavors.base import Flavor
from modelwright.registry.signature import METHODS, Signature, validate_input

__all__ = [
    "METHODS",
    "LoadedModel",
    "available_methods",
    "call_method",
    "check_method",
    "method_outputs",
    "parse_payload",
]


def check_method(method: Any, field: str = "method") -> str:
    """``method`` if it names a prediction method (``METHODS``), else ``InvalidInput``."""
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidInput(
            f"{field}: unknown prediction method {method!r} (one of {', '.join(METHODS)})",
            details={"field": field, "value": str(method)},
        )
    return method


def available_methods(flavor: Flavor, raw: Any) -> list[str]:
    """The prediction methods ``raw`` offers: ``predict``, and those of ``METHODS`` it has
    (a scikit-learn regressor has no ``predict_proba``, nor an SVC without probabilities),
    within the flavor's ``methods`` if it declares them (what its loaded form answers)."""
    allowed = getattr(flavor, "methods", METHODS)
    return [
        "predict",
        *(m for m in METHODS[1:] if m in allowed and callable(getattr(raw, m, None))),
    ]


def call_method(flavor: Flavor, raw: Any, method: str, data: Any, *, field: str = "method") -> Any:
    """``raw``'s ``method`` on ``data``. A method giving one column per class gives a
    DataFrame whose columns are the class labels (as text, ``classes_`` order)."""
    import numpy as np
    import pandas as pd

    if method == "predict":
        return flavor.predict(raw, data)
    check_method(method, field)
    fn = getattr(raw, method, None)
    if not callable(fn):
        raise _missing(flavor, raw, method, field)
    out = np.asarray(fn(data))
    if out.ndim != 2:
        return out
    classes = getattr(raw, "classes_", None)
    labels = (
        [str(c) for c in classes]
        if classes is not None and len(classes) == out.shape[1]
        else [str(i) for i in range(out.shape[1])]
    )
    return pd.DataFrame(out, columns=labels)


def _missing(flavor: Flavor, raw: Any, method: str, field: str) -> InvalidInput:
    has = ", ".join(available_methods(flavor, raw))
    return InvalidInput(
        f"{field}: this {type(raw).__name__} model has no {method} (it has {has})",
        details={"field": field, "value": method},
    )


def method_outputs(flavor: Flavor, raw: Any, example: Any, predicted: Any) -> dict[str, Any]:
    """Each prediction method's output on ``example`` (``predicted`` is predict's), for the
    signature to record; a method that fails on the example is an error naming it."""
    outputs = {"predict": predicted}
    for method in available_methods(flavor, raw)[1:]:
        try:
            outputs[method] = call_method(flavor, raw, method, example)
        except Exception as exc:
            raise InvalidInput(
                f"input_example: the model's {method} fails on it ({type(exc).__name__}: {exc})",
                details={"field": "input_example", "method": method},
            ) from None
    return outputs


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

    @property
    def methods(self) -> list[str]:
        """The prediction methods this model answers (see ``METHODS``)."""
        return available_methods(self.flavor, self.raw)

    def require_method(self, method: str, field: str = "method") -> None:
        """``InvalidInput`` naming ``field`` unless this model answers ``method``."""
        check_method(method, field)
        if method not in self.methods:
            raise _missing(self.flavor, self.raw, method, field)

    def predict(self, data: Any, *, validate: bool = True, method: str = "predict") -> Any:
        """``method``'s output on ``data``: ``predict`` (the default), ``predict_proba`` or
        ``decision_function`` (a DataFrame with one column per class, named by its label,
        where the model gives one)."""
        if method != "predict":
            check_method(method)
        if validate:
            data = self.validate(data)
        return call_method(self.flavor, self.raw, method, data)

    def predict_proba(self, data: Any, *, validate: bool = True) -> Any:
        """Each class's probability: one column per class, named by the class labels."""
        return self.predict(data, validate=validate, method="predict_proba")

    def decision_function(self, data: Any, *, validate: bool = True) -> Any:
        """The model's decision scores: one column per class (named by the class labels)
        for more than two classes, one score per row for two."""
        return self.predict(data, validate=validate, method="decision_function")

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
