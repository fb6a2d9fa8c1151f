"""``models:/`` URIs: ``models:/churn/3``, ``models:/churn/latest``, ``models:/churn@champion``,
``models:/prod/churn@champion``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelwright.core.names import check_name
from modelwright.errors import InvalidInput

__all__ = ["ModelRef", "model_uri", "parse_model_uri"]

_PREFIX = "models:/"


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int | None = None
    alias: str | None = None
    environment: str | None = None
    # ``models:/churn/latest``: the highest version, resolved when used (as MLflow's).
    latest: bool = False

    def __str__(self) -> str:
        env = f"{self.environment}/" if self.environment else ""
        tail = "/latest" if self.latest else f"/{self.version}"
        return f"{_PREFIX}{env}{self.name}" + (f"@{self.alias}" if self.alias else tail)


def model_uri(name: str, version: int) -> str:
    """``models:/<name>/<version>``, the one way a model version is named."""
    return str(ModelRef(name=name, version=version))


def _bad(uri: str) -> InvalidInput:
    return InvalidInput(
        f"uri: expected models:/<name>/<version>, models:/<name>/latest or "
        f"models:/[<environment>/]<name>@<alias> "
        f"(got {uri!r})",
        details={"field": "uri", "value": uri},
    )


def parse_model_uri(uri: str) -> ModelRef:
    if not uri.startswith(_PREFIX):
        raise _bad(uri)
    parts = uri[len(_PREFIX) :].strip("/").split("/")
    if "@" in parts[-1]:
        name, _, alias = parts[-1].partition("@")
        if len(parts) > 2 or not alias:
            raise _bad(uri)
        env = parts[0] if len(parts) == 2 else None
        return ModelRef(
            name=check_name(name, "uri"),
            alias=check_name(alias, "uri"),
            environment=None if env is None else check_name(env, "uri"),
        )
    if len(parts) == 2 and parts[1] == "latest":
        return ModelRef(name=check_name(parts[0], "uri"), latest=True)
    if len(parts) == 2 and re.fullmatch(r"v?[0-9]+", parts[1]):
        return ModelRef(name=check_name(parts[0], "uri"), version=int(parts[1].lstrip("v")))
    raise _bad(uri)
