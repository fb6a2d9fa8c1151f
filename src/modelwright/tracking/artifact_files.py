"""Values written as artifact files, as MLflow's ``log_text``/``log_dict``/``log_figure``/
``log_table`` write them: each writer checks its input and writes one file."""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from modelwright.errors import InvalidInput

__all__ = ["check_artifact_file", "write_dict", "write_figure", "write_table", "write_text"]


def check_artifact_file(artifact_file: str) -> PurePosixPath:
    """A relative file path such as ``plots/roc.png``."""
    rel = PurePosixPath(artifact_file)
    if not rel.name or rel.is_absolute() or ".." in rel.parts:
        raise InvalidInput(
            f"artifact_file: expected a relative file path such as 'plots/roc.png' "
            f"(got {artifact_file!r})",
            details={"field": "artifact_file"},
        )
    return rel


def write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def write_dict(path: Path, dictionary: Mapping[str, Any]) -> None:
    """JSON, or YAML when the file ends in ``.yaml``/``.yml``."""
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        path.write_text(yaml.safe_dump(dict(dictionary), sort_keys=False), encoding="utf-8")
    else:
        path.write_text(json.dumps(dictionary, indent=2, default=str), encoding="utf-8")


def write_figure(path: Path, figure: Any, save_kwargs: Mapping[str, Any] | None = None) -> None:
    """A matplotlib figure as an image; the format follows the suffix (``.png``, ``.svg``)."""
    try:
        # Imported only here: matplotlib is not a dependency of modelwright.
        figures = importlib.import_module("matplotlib.figure")
    except ImportError:
        raise InvalidInput(
            "figure: log_figure needs matplotlib, which is not installed (pip install matplotlib)",
            details={"field": "figure"},
        ) from None
    if not isinstance(figure, figures.Figure):
        raise InvalidInput(
            f"figure: expected a matplotlib Figure, got {type(figure).__name__}",
            details={"field": "figure"},
        )
    figure.savefig(path, **dict(save_kwargs or {}))


def write_table(path: Path, data: Any) -> None:
    """A DataFrame (or a dict of columns) as Parquet; the file must be named ``*.parquet``."""
    import pandas as pd

    if path.suffix != ".parquet":
        raise InvalidInput(
            f"artifact_file: a table is stored as Parquet; name it '*.parquet' (got '{path.name}')",
            details={"field": "artifact_file"},
        )
    if isinstance(data, Mapping):
        data = pd.DataFrame(dict(data))
    if not isinstance(data, pd.DataFrame):
        raise InvalidInput(
            f"data: expected a pandas DataFrame or a dict of columns, got {type(data).__name__}",
            details={"field": "data"},
        )
    data.to_parquet(path)
