"""Pages of things named as the services name them (in versions, lineage and impact)."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["dataset_link", "endpoint_link", "lineage_link", "model_link", "node_link"]


def dataset_link(workspace: str, ref: str) -> str:
    """The page of a dataset version named as ``<environment>/<name>@v<version>``."""
    env, _, rest = ref.partition("/")
    name, _, version = rest.partition("@")
    return f"/w/{workspace}/datasets/{env}/{name}/{version.removeprefix('v')}"


def model_link(workspace: str, uri: str) -> str:
    """The page of a model version named as ``models:/<name>/<version>``."""
    name, _, version = uri.removeprefix("models:/").rpartition("/")
    return f"/w/{workspace}/models/{name}/versions/{version}"


def endpoint_link(workspace: str, environment: str, name: str) -> str:
    return f"/w/{workspace}/endpoints/{environment}/{name}"


def lineage_link(workspace: str, node: str) -> str:
    """The lineage graph around ``node``, named as the lineage query names entities
    (``run:<id>``, ``dataset:<environment>/<name>@v<version>``, ``models:/<name>/<version>``,
    ``artifact:<sha256>``) or ``endpoint:<environment>/<name>``."""
    return f"/w/{workspace}/lineage?node={quote(node, safe='')}"


def node_link(workspace: str, node: str) -> str:
    """The page of a lineage node named as ``lineage_link`` names it ('' for an artifact,
    whose page needs the run that logged it)."""
    if node.startswith("models:/"):
        return model_link(workspace, node)
    kind, _, ref = node.partition(":")
    if kind == "run":
        return f"/runs/{ref}"
    if kind == "dataset":
        return dataset_link(workspace, ref)
    if kind == "endpoint":
        env, _, name = ref.partition("/")
        return endpoint_link(workspace, env, name)
    return ""
