"""Cache keys: a node's code, its input contents, its parameters and the environment.

The code hash covers the node function's source and, transitively, the project functions,
classes and modules it refers to; library code counts through the environment fingerprint
(Python and key package versions). Values are hashed by their pickle-free serialisation
(Parquet for DataFrames, JSON, ``.npy``), which is also how the artifact store keeps them, so a
content-identical output of a re-run upstream node keeps its dependants cached.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import math
import sys
import sysconfig
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_VERSION",
    "Serialized",
    "cache_key",
    "code_hash",
    "deserialize",
    "fingerprint",
    "param_hash",
    "serialize",
]

CACHE_VERSION = "1"
_LIBRARIES = ("numpy", "pandas", "pyarrow", "scikit-learn")
_LIBRARY_DIRS = tuple(
    {
        str(Path(p).resolve())
        for p in (
            sysconfig.get_paths()["stdlib"],
            sysconfig.get_paths()["purelib"],
            sysconfig.get_paths()["platlib"],
            sys.prefix,
            sys.base_prefix,
        )
    }
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- code -------------------------------------------------------------------------------------
def _is_project_file(file: str | None, roots: tuple[str, ...] | None) -> bool:
    if not file or file.startswith("<"):
        return False
    path = str(Path(file).resolve())
    if roots is not None:
        return any(path.startswith(r.rstrip("/") + "/") for r in roots)
    # Without a project root: anything that is not the standard library, an installed
    # package, or modelwright itself.
    if path.startswith(_MODELWRIGHT_DIR):
        return False
    return not any(path.startswith(d.rstrip("/") + "/") for d in _LIBRARY_DIRS)


_MODELWRIGHT_DIR = str(Path(__file__).resolve().parents[1]) + "/"


def _source(obj: Any) -> str:
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        code = getattr(obj, "__code__", None)
        return repr(code.co_code) if code is not None else repr(obj)


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


def code_hash(
    func: Callable[..., Any],
    *,
    roots: Iterable[str | Path] | None = None,
    memo: dict[int, str] | None = None,
) -> str:
    """sha256 over the function's source and the project code it reaches."""
    key = id(func)
    if memo is not None and key in memo:
        return memo[key]
    root_tuple = None if roots is None else tuple(str(Path(r).resolve()) for r in roots)
    # The node's own source always counts, even for a function from an installed package.
    parts: dict[str, str] = {"node": _source(inspect.unwrap(func))}
    _collect(inspect.unwrap(func), root_tuple, parts)
    h = hashlib.sha256()
    for name in sorted(parts):
        h.update(name.encode() + b"\0" + parts[name].encode() + b"\0")
    digest = h.hexdigest()
    if memo is not None:
        memo[key] = digest
    return digest


def _collect(obj: Any, roots: tuple[str, ...] | None, parts: dict[str, str]) -> None:
    if isinstance(obj, types.ModuleType):
        label = f"module:{obj.__name__}"
        if label in parts or not _is_project_file(getattr(obj, "__file__", None), roots):
            return
        parts[label] = _source(obj)
        for value in vars(obj).values():
            mod = value if isinstance(value, types.ModuleType) else inspect.getmodule(value)
            if mod is not None and mod is not obj:
                _collect(mod, roots, parts)
        return
    if isinstance(obj, types.FunctionType | type):
        label = f"{obj.__module__}:{obj.__qualname__}"
        module = sys.modules.get(obj.__module__)
        if label in parts or not _is_project_file(getattr(module, "__file__", None), roots):
            return
        parts[label] = _source(obj)
        if isinstance(obj, types.FunctionType):
            scope = obj.__globals__
            for name in _names(obj.__code__):
                if name in scope:
                    _collect(scope[name], roots, parts)
        else:
            for value in vars(obj).values():
                if isinstance(value, types.FunctionType):
                    _collect(value, roots, parts)


# -- values -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Serialized:
    data: bytes
    format: str  # parquet | json | npy
    digest: str


def _jsonable(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


def serialize(value: Any) -> Serialized | str:
    """The pickle-free bytes of a value, or why it has none (the node is then uncacheable)."""
    import numpy as np
    import pandas as pd

    from modelwright.data.tabular import dataframe_to_parquet
    from modelwright.errors import InvalidInput

    if isinstance(value, pd.DataFrame):
        try:
            data = dataframe_to_parquet(value)
        except InvalidInput as exc:
            return f"its DataFrame cannot be stored as Parquet ({exc.message})"
        return Serialized(data, "parquet", sha256(data))
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return "it is a NumPy array of Python objects (only plain dtypes are stored)"
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        data = buf.getvalue()
        return Serialized(data, "npy", sha256(data))
    if _jsonable(value):
        data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
        return Serialized(data, "json", sha256(data))
    return (
        f"it is a {type(value).__module__}.{type(value).__qualname__}; only DataFrames, "
        "NumPy arrays and JSON values (dict, list, str, numbers, bool, None) are cached"
    )


def deserialize(data: bytes, fmt: str) -> Any:
    from modelwright.pipelines.catalog import decode

    return decode(fmt, data)


def param_hash(value: Any) -> str:
    return sha256(json.dumps(value, sort_keys=True, default=repr).encode())


# -- keys -------------------------------------------------------------------------------------
@functools.cache
def fingerprint() -> str:
    """The software environment that affects results: Python and key library versions
    (read once per process: looking a version up scans the installed distributions)."""
    parts = [f"python={sys.version_info.major}.{sys.version_info.minor}"]
    for lib in _LIBRARIES:
        try:
            parts.append(f"{lib}={version(lib)}")
        except PackageNotFoundError:
            continue
    return ";".join(parts)


def cache_key(
    *, code: str, inputs: Mapping[str, str], outputs: Iterable[str], environment: str
) -> str:
    """The key of one node execution: 64 hex characters."""
    doc = {
        "v": CACHE_VERSION,
        "code": code,
        "inputs": dict(sorted(inputs.items())),
        "outputs": list(outputs),
        "environment": environment,
    }
    return sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
