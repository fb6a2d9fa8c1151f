"""The data catalog: names bound to datasets in the environment's datastores.

``catalog.yml``::

    customers:            # a file in a datastore of the run's environment
      type: parquet       # parquet | csv | json | npy | registered | memory
      datastore: lake     # default: the environment's only datastore, else the project dir
      path: raw/customers.parquet
    reference:
      type: registered    # a registered dataset version (lineage recorded on the node's run)
      dataset: churn@v3
    scores:
      type: metrics       # a dict of numbers a node returns: metrics of the pipeline's run

Names the catalog does not mention stay in memory between nodes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from modelwright.errors import InvalidInput, PermissionDenied

__all__ = [
    "Catalog",
    "CatalogEntry",
    "DatasetType",
    "Location",
    "check_metrics",
    "load_file",
    "metric_values",
    "parse_catalog",
    "resolve_locations",
    "save_file",
]

DatasetType = Literal["parquet", "csv", "json", "npy", "registered", "memory", "metrics"]
FILE_TYPES = ("parquet", "csv", "json", "npy")


class CatalogEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: DatasetType
    path: str | None = Field(default=None, description="Relative to the datastore, or absolute.")
    datastore: str | None = Field(
        default=None, description="A datastore of the environment, or 'env/name' of another."
    )
    dataset: str | None = Field(default=None, description="For type registered: name@version.")

    @model_validator(mode="after")
    def _fields(self) -> CatalogEntry:
        if self.type in FILE_TYPES and not self.path:
            raise ValueError(f"type {self.type} needs a path")
        if self.type == "registered" and not self.dataset:
            raise ValueError("type registered needs dataset: name@version")
        return self


Catalog = dict[str, CatalogEntry]


def parse_catalog(raw: Mapping[str, Any]) -> Catalog:
    out: Catalog = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping):
            raise InvalidInput(
                f"catalog '{name}': expected a mapping with a type, got {spec!r:.80}",
                details={"field": "catalog", "entry": name},
            )
        try:
            out[str(name)] = CatalogEntry.model_validate(dict(spec))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            raise InvalidInput(
                f"catalog '{name}'{'.' + where if where else ''}: {msg}",
                details={"field": "catalog", "entry": name},
            ) from None
    return out


@dataclass(frozen=True)
class Location:
    """Where a file dataset lives, and under which datastore (for isolation and lineage)."""

    url: str
    datastore: str = ""  # "env/name", or "" for a path outside any datastore
    classification: str = "non-production"


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _absolute(path: str) -> bool:
    return "://" in path or path.startswith("/")


def resolve_locations(
    catalog: Catalog,
    *,
    environment: str,
    production: bool,
    datastores: Mapping[str, list[tuple[str, str, str]]],
    project: Path,
) -> dict[str, Location]:
    """The location of every file entry, refusing production data in a non-production run.

    ``datastores``: environment name → [(datastore name, url, classification)] for every
    environment of the workspace (from the workspace's description).
    """
    own = datastores.get(environment, [])
    every = [(env, n, url, c) for env, stores in datastores.items() for n, url, c in stores]
    out: dict[str, Location] = {}
    for name, entry in catalog.items():
        if entry.type not in FILE_TYPES or entry.path is None:
            continue
        path = entry.path
        if entry.datastore:
            env_name, slash, store = entry.datastore.rpartition("/")
            env_name = env_name if slash else environment
            found = [s for s in datastores.get(env_name, []) if s[0] == store]
            if not found:
                have = ", ".join(f"{e}/{n}" for e, n, _, _ in every) or "none"
                raise InvalidInput(
                    f"catalog '{name}': datastore '{entry.datastore}' does not exist "
                    f"(the workspace has: {have})",
                    details={"field": "catalog", "entry": name},
                )
            _, url, classification = found[0]
            loc = Location(_join(url, path), f"{env_name}/{store}", classification)
        elif _absolute(path):
            loc = Location(path)
            for env_name, store, url, classification in every:
                if path.startswith(url.rstrip("/") + "/"):
                    loc = Location(path, f"{env_name}/{store}", classification)
                    break
        elif len(own) == 1:
            store, url, classification = own[0]
            loc = Location(_join(url, path), f"{environment}/{store}", classification)
        else:
            loc = Location(str((project / path).resolve()))
        if loc.classification == "production" and not production:
            raise PermissionDenied(
                f"catalog '{name}': {loc.url} is in production datastore '{loc.datastore}', "
                f"and environment '{environment}' is not production (production data is "
                "never readable from non-production environments)",
                details={"field": "catalog", "entry": name, "datastore": loc.datastore},
            )
        out[name] = loc
    return out


def metric_values(name: str, value: Any) -> dict[str, Any]:
    """What a ``metrics`` entry holds, checked: a mapping of names to numbers (or to such
    mappings), with NumPy scalars made plain numbers (so the value is cached as JSON)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(
            f"catalog '{name}': a metrics entry holds a dict of numbers, got "
            f"{type(value).__name__}",
            details={"field": "catalog", "entry": name},
        )
    out: dict[str, Any] = {}
    for key, v in value.items():
        if isinstance(v, Mapping):
            out[str(key)] = metric_values(name, v)
            continue
        item = v.item() if callable(getattr(v, "item", None)) else v  # a NumPy scalar
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise InvalidInput(
                f"catalog '{name}': metric '{key}' must be a number, got "
                f"{type(v).__name__} {v!r:.60}",
                details={"field": "catalog", "entry": name, "metric": str(key)},
            )
        out[str(key)] = item
    return out


def check_metrics(name: str, value: Any) -> dict[str, float]:
    """The metrics a ``metrics`` entry holds, nested names joined with dots
    (``{"f1": {"macro": 0.9}}`` is ``f1.macro``)."""
    flat: dict[str, float] = {}
    for key, v in metric_values(name, value).items():
        if isinstance(v, dict):
            flat.update({f"{key}.{k}": f for k, f in check_metrics(name, v).items()})
        else:
            flat[key] = float(v)
    return flat


# -- reading and writing files ----------------------------------------------------------------
def load_file(kind: str, url: str) -> tuple[Any, bytes]:
    """The value of a file dataset, and the file's bytes (its content hash is theirs)."""
    import fsspec

    try:
        with fsspec.open(url, "rb") as f:
            data: bytes = f.read()
    except FileNotFoundError:
        raise InvalidInput(f"dataset file {url} does not exist", details={"url": url}) from None
    return decode(kind, data), data


def decode(kind: str, data: bytes) -> Any:
    import numpy as np
    import pandas as pd

    if kind == "parquet":
        return pd.read_parquet(io.BytesIO(data))
    if kind == "csv":
        return pd.read_csv(io.BytesIO(data))
    if kind == "json":
        return json.loads(data)
    if kind == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    raise ValueError(f"not a file dataset type: {kind}")


def encode(kind: str, value: Any) -> bytes:
    """Bytes of ``value`` in a catalog file type (pickle-free)."""
    import numpy as np
    import pandas as pd

    from modelwright.data.tabular import dataframe_to_parquet

    if kind in ("parquet", "csv") and not isinstance(value, pd.DataFrame):
        raise InvalidInput(
            f"a {kind} dataset holds a pandas DataFrame, got {type(value).__name__}",
            details={"type": kind},
        )
    if kind == "parquet":
        return dataframe_to_parquet(value)
    if kind == "csv":
        return str(value.to_csv(index=False)).encode()
    if kind == "json":
        return json.dumps(value, sort_keys=True, allow_nan=False).encode()
    if kind == "npy":
        buf = io.BytesIO()
        np.save(buf, np.asarray(value), allow_pickle=False)
        return buf.getvalue()
    raise ValueError(f"not a file dataset type: {kind}")


def save_file(kind: str, url: str, value: Any) -> bytes:
    import fsspec

    data = encode(kind, value)
    fs, path = fsspec.core.url_to_fs(url)
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.makedirs(parent, exist_ok=True)
    with fs.open(path, "wb") as f:
        f.write(data)
    return data
