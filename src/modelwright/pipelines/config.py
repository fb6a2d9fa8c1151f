"""Project configuration: ``conf/base`` overlaid by ``conf/<env>``, and ``--params`` overrides."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelwright.errors import InvalidInput

__all__ = ["ProjectConfig", "apply_overrides", "load_config", "merge", "parse_override"]

BASE = "base"


@dataclass(frozen=True)
class ProjectConfig:
    """The resolved configuration of one run: what the run records."""

    environment: str
    catalog: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "catalog": self.catalog,
            "parameters": self.parameters,
            "overrides": self.overrides,
            "sources": self.sources,
        }


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge key by key; anything else in ``overlay`` replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {exc}", details={"file": str(path)}) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{path}: expected a mapping at the top level, got {type(data).__name__}",
            details={"file": str(path)},
        )
    return data


def _layer(folder: Path, stem: str) -> tuple[dict[str, Any], list[str]]:
    """``<stem>.yml``/``.yaml`` and ``<stem>_*.yml`` of one folder, merged in name order."""
    found = sorted(
        p
        for pattern in (f"{stem}.yml", f"{stem}.yaml", f"{stem}_*.yml", f"{stem}_*.yaml")
        for p in folder.glob(pattern)
    )
    out: dict[str, Any] = {}
    for p in found:
        out = merge(out, _read(p))
    return out, [str(p) for p in found]


def load_config(
    project: Path, environment: str, overrides: Iterable[str] | Mapping[str, Any] = ()
) -> ProjectConfig:
    """Catalog and parameters of ``project`` for ``environment``; overrides name known keys."""
    conf = project / "conf"
    if not (conf / BASE).is_dir():
        raise InvalidInput(
            f"project '{project}' has no conf/{BASE} folder (expected "
            f"conf/{BASE}/catalog.yml and conf/{BASE}/parameters.yml)",
            details={"project": str(project)},
        )
    catalog, sources = _layer(conf / BASE, "catalog")
    params, more = _layer(conf / BASE, "parameters")
    sources += more
    if environment != BASE and (conf / environment).is_dir():
        env_catalog, s1 = _layer(conf / environment, "catalog")
        env_params, s2 = _layer(conf / environment, "parameters")
        catalog, params = merge(catalog, env_catalog), merge(params, env_params)
        sources += s1 + s2
    parsed = (
        dict(overrides)
        if isinstance(overrides, Mapping)
        else dict(parse_override(o) for o in overrides)
    )
    params = apply_overrides(params, parsed)
    return ProjectConfig(environment, catalog, params, parsed, sources)


def parse_override(text: str) -> tuple[str, Any]:
    """``alpha=0.5`` → ``("alpha", 0.5)``; the value is read as YAML (``x=[1, 2]``)."""
    key, eq, raw = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise InvalidInput(
            f"--params: expected key=value, got {text!r}", details={"field": "params"}
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def apply_overrides(params: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set dotted keys (``model.depth=5``); a key the parameters do not have is an error."""
    out = copy.deepcopy(dict(params))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        target: Any = out
        for i, part in enumerate(parts):
            if not isinstance(target, dict) or part not in target:
                known = ", ".join(sorted(flatten(params))) or "none"
                raise InvalidInput(
                    f"--params: unknown parameter '{dotted}' (known: {known})",
                    details={"field": "params", "key": dotted},
                )
            if i == len(parts) - 1:
                target[part] = value
            else:
                target = target[part]
    return out


def flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"model": {"depth": 5}}`` → ``{"model.depth": 5}`` (and ``"model"`` itself)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        out[name] = value
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
    return out


def get_param(params: Mapping[str, Any], dotted: str) -> Any:
    flat = flatten(params)
    if dotted not in flat:
        raise KeyError(dotted)
    return flat[dotted]
