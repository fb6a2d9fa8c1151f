"""Finding a project's pipelines: ``<project>/pipelines.py`` (or a ``pipelines`` package)
exposing ``PIPELINES = {"name": pipeline([...])}`` or ``register_pipelines()`` returning
such a mapping."""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from modelwright.core.names import MAX_NAME, check_name
from modelwright.errors import InvalidInput, NotFound
from modelwright.pipelines.pipeline import Pipeline

__all__ = [
    "MODULE",
    "default_experiment",
    "experiment_name",
    "load_pipelines",
    "project_module",
    "project_name",
]

MODULE = "pipelines"


def _forget(project: Path) -> None:
    """Drop modules of another project imported under the same names."""
    root = str(project.resolve())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        mine = name == MODULE or name.startswith(MODULE + ".")
        if mine and not file.startswith(root + "/"):
            del sys.modules[name]


def project_module(project: Path) -> ModuleType:
    project = project.resolve()
    if not ((project / f"{MODULE}.py").is_file() or (project / MODULE / "__init__.py").is_file()):
        raise InvalidInput(
            f"project '{project}' has no {MODULE}.py (or {MODULE}/ package) defining its pipelines",
            details={"project": str(project)},
        )
    _forget(project)
    if str(project) in sys.path:
        sys.path.remove(str(project))
    sys.path.insert(0, str(project))
    importlib.invalidate_caches()
    module = importlib.import_module(MODULE)
    return module


def load_pipelines(project: Path) -> dict[str, Pipeline]:
    module = project_module(project)
    found = getattr(module, "PIPELINES", None)
    register = getattr(module, "register_pipelines", None)
    if found is None and callable(register):
        found = register()
    if not isinstance(found, Mapping) or not all(isinstance(p, Pipeline) for p in found.values()):
        raise InvalidInput(
            f"{module.__file__}: expected PIPELINES (or register_pipelines() returning) a "
            "mapping of names to pipelines",
            details={"project": str(project)},
        )
    return {str(k): v for k, v in found.items()}


def get_pipeline(project: Path, name: str) -> Pipeline:
    pipelines = load_pipelines(project)
    if name not in pipelines:
        raise NotFound(
            f"pipeline '{name}' not found in project '{project}' (it has: "
            f"{', '.join(pipelines) or 'none'})",
            details={"pipeline": name},
        )
    return pipelines[name]


def project_name(project: Path) -> str:
    """The project's name: ``[project] name`` of its ``pyproject.toml``, else its folder's."""
    project = project.resolve()
    try:
        meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        name = meta.get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        name = None
    return str(name) if isinstance(name, str) and name else project.name


def default_experiment(project: Path, pipeline: str) -> str:
    """Where a project's runs of ``pipeline`` go unless told: ``<project>-<pipeline>``, made a
    valid name (other characters become '-')."""
    raw = f"{project_name(project)}-{pipeline}"
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).replace("..", ".")
    name = name.lstrip("._-")[:MAX_NAME].rstrip("._-") or pipeline
    return name


def experiment_name(project: Path, pipeline: str, experiment: str | None) -> str:
    """``experiment`` when given (checked), else ``default_experiment``."""
    if experiment is not None:
        return check_name(experiment, "experiment")
    return default_experiment(project, pipeline)
