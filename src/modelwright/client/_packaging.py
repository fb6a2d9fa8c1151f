"""Packages: a directory that serves a model version, built from the verified download."""

from __future__ import annotations

import sys
from pathlib import Path

from modelwright.client._registry import RegistryMixin
from modelwright.errors import InvalidInput
from modelwright.registry.packaging import PackageSpec, write_package

__all__ = ["PackagingMixin"]


class PackagingMixin(RegistryMixin):
    def package_model(
        self,
        uri: str,
        out: str | Path,
        *,
        kubernetes: bool = False,
        image: str | None = None,
        port: int = 8080,
        workspace: str | None = None,
        environment: str | None = None,
        modelwright_requirement: str | None = None,
    ) -> Path:
        """Write a directory that serves the version: ``model/`` (verified artifact),
        ``requirements.txt``, ``serve.py``, ``Dockerfile``, ``README.md``; ``k8s/`` with
        ``kubernetes``. modelwright is pinned as ``wheels/``, a wheel of this modelwright,
        unless ``modelwright_requirement`` names what to install instead."""
        out = Path(out)
        if out.exists() and any(out.iterdir()):
            raise InvalidInput(f"out: '{out}' exists and is not empty", details={"field": "out"})
        info = self.get_model_version(uri, workspace=workspace, environment=environment)
        spec = PackageSpec(
            name=info.name,
            version=info.version,
            digest=info.digest,
            flavor=info.flavor,
            flavor_meta=info.flavor_meta,
            requirements=info.requirements,
            python=".".join(map(str, sys.version_info[:2])),
            port=port,
            image=image,
            modelwright_requirement=modelwright_requirement,
        )
        self.download_model(info, out / "model")
        write_package(spec, out, kubernetes=kubernetes)
        return out
