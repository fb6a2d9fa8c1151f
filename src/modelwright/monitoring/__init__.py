"""Data drift between a reference and a current dataset: a pure library (numpy, scipy, pandas,
pyarrow), no store, no service, no web framework.

``drift(reference, current)`` gives, by default, the same tests, scores and decisions as
Evidently 0.7.23's ``DataDriftPreset``; ``method=`` picks another registered method (PSI,
KL, Hellinger, Jensen–Shannon base 2, Anderson–Darling, raw Wasserstein, ...). See
docs/monitoring.md.
"""

from modelwright.monitoring._drift import default_method, drift, infer_kind
from modelwright.monitoring.errors import (
    ColumnsMissing,
    DriftInputError,
    EmptyColumn,
    EmptyData,
    UnknownDriftMethod,
    UnsupportedColumn,
)
from modelwright.monitoring.methods import (
    BUILTINS,
    ENTRY_POINT_GROUP,
    BaseMethod,
    DriftMethod,
    get_method,
    method_names,
    register_method,
)
from modelwright.monitoring.results import ColumnDrift, ColumnKind, DriftResult, Score

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "BaseMethod",
    "ColumnDrift",
    "ColumnKind",
    "ColumnsMissing",
    "DriftInputError",
    "DriftMethod",
    "DriftResult",
    "EmptyColumn",
    "EmptyData",
    "Score",
    "UnknownDriftMethod",
    "UnsupportedColumn",
    "default_method",
    "drift",
    "get_method",
    "infer_kind",
    "method_names",
    "register_method",
]
