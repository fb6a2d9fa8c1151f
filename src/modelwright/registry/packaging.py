"""A self-contained directory that serves one model version: artifact, pinned requirements,
entry point, Dockerfile and, on request, Kubernetes manifests."""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path
from typing import Any

from modelwright.registry.flavors import get_flavor, requires_trust
from modelwright.registry.uri import model_uri

__all__ = ["PackageSpec", "write_package"]


def _modelwright_version() -> str:
    try:
        return importlib.metadata.version("modelwright")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"


_ENTRY = '''"""Serve the packaged model: python serve.py [--host 0.0.0.0] [--port 8080].

The API of `modelwright serve`: POST /invocations, the Open Inference Protocol under /v2.
"""

import sys
from pathlib import Path

from modelwright.serving.packaged import main

HERE = Path(__file__).resolve().parent
MODEL = ["--name", {name!r}, "--version", {version!r}, "--digest", {digest!r}{trust}]

if __name__ == "__main__":
    main(["--model-dir", str(HERE / "model"), *MODEL, *sys.argv[1:]])
'''

_DOCKERFILE = """# Built by `modelwright model package` for {uri} (digest {digest}).
FROM python:{python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 model && chown -R model /app
USER model
EXPOSE {port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/health')"
CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "{port}"]
"""


class PackageSpec:
    def __init__(
        self,
        *,
        name: str,
        version: int,
        digest: str,
        flavor: str,
        flavor_meta: dict[str, Any],
        requirements: list[str],
        python: str = "3.11",
        port: int = 8080,
        image: str | None = None,
        modelwright_requirement: str | None = None,
    ) -> None:
        self.name, self.version, self.digest = name, version, digest
        self.flavor, self.flavor_meta = flavor, flavor_meta
        self.requirements = requirements
        self.python, self.port = python, port
        slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "model"
        self.slug = slug
        self.image = image or f"{slug}:v{version}"
        self.modelwright_requirement = (
            modelwright_requirement or f"modelwright=={_modelwright_version()}"
        )

    @property
    def uri(self) -> str:
        return model_uri(self.name, self.version)


def write_package(spec: PackageSpec, out: Path, *, kubernetes: bool = False) -> list[Path]:
    """Write everything but ``out/model`` (the caller puts the verified artifact there)."""
    out.mkdir(parents=True, exist_ok=True)
    trusted = requires_trust(get_flavor(spec.flavor), spec.flavor_meta)
    written = []

    def put(name: str, text: str) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)

    reqs = [
        spec.modelwright_requirement,
        *(r for r in spec.requirements if not r.startswith("modelwright==")),
    ]
    put("requirements.txt", "\n".join(reqs) + "\n")
    put(
        "serve.py",
        _ENTRY.format(
            name=spec.name,
            version=str(spec.version),
            digest=spec.digest,
            trust=', "--trust-pickle"' if trusted else "",
        ),
    )
    put(
        "Dockerfile",
        _DOCKERFILE.format(uri=spec.uri, digest=spec.digest, python=spec.python, port=spec.port),
    )
    put(".dockerignore", "__pycache__/\n*.pyc\nk8s/\n")
    put(
        "package.json",
        json.dumps(
            {
                "uri": spec.uri,
                "name": spec.name,
                "version": spec.version,
                "digest": spec.digest,
                "flavor": spec.flavor,
                "image": spec.image,
                "port": spec.port,
                "modelwright": _modelwright_version(),
            },
            indent=2,
        )
        + "\n",
    )
    if kubernetes:
        import yaml  # only here: loading a model never needs it

        put("k8s/deployment.yaml", yaml.safe_dump(_deployment(spec), sort_keys=False))
        put("k8s/service.yaml", yaml.safe_dump(_service(spec), sort_keys=False))
    return written


def _labels(spec: PackageSpec) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": spec.slug,
        "app.kubernetes.io/version": f"v{spec.version}",
        "app.kubernetes.io/managed-by": "modelwright",
    }


def _deployment(spec: PackageSpec) -> dict[str, Any]:
    probe = {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": spec.slug,
            "labels": _labels(spec),
            "annotations": {
                "modelwright.io/model-uri": spec.uri,
                "modelwright.io/digest": spec.digest,
            },
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": spec.slug}},
            "template": {
                "metadata": {"labels": _labels(spec)},
                "spec": {
                    "containers": [
                        {
                            "name": "model",
                            "image": spec.image,
                            "ports": [{"name": "http", "containerPort": spec.port}],
                            "readinessProbe": {**probe, "initialDelaySeconds": 5},
                            "livenessProbe": {**probe, "initialDelaySeconds": 30},
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "512Mi"},
                                "limits": {"cpu": "1", "memory": "1Gi"},
                            },
                            "securityContext": {
                                "runAsNonRoot": True,
                                "allowPrivilegeEscalation": False,
                            },
                        }
                    ]
                },
            },
        },
    }


def _service(spec: PackageSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": spec.slug, "labels": _labels(spec)},
        "spec": {
            "selector": {"app.kubernetes.io/name": spec.slug},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
