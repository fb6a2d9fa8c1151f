"""Pages of things named as the services name them (in versions, lineage and impact)."""

from __future__ import annotations

__all__ = ["dataset_link", "model_link"]


def dataset_link(workspace: str, ref: str) -> str:
    """The page of a dataset version named as ``<environment>/<name>@v<version>``."""
    env, _, rest = ref.partition("/")
    name, _, version = rest.partition("@")
    return f"/w/{workspace}/datasets/{env}/{name}/{version.removeprefix('v')}"


def model_link(workspace: str, uri: str) -> str:
    """The page of a model version named as ``models:/<name>/<version>``."""
    name, _, version = uri.removeprefix("models:/").rpartition("/")
    return f"/w/{workspace}/models/{name}/versions/{version}"
