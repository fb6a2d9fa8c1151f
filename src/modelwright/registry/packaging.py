"""A self-contained directory that serves one model version: artifact, pinned requirements,
entry point, Dockerfile, README and, on request, Kubernetes manifests.

modelwright itself is pinned as a wheel of the running modelwright inside the package
(``wheels/``, see ``registry.wheel``), which ``requirements.txt`` names by relative path: the
image is built from the package's own files, with no index that serves modelwright. A caller
may pin another requirement instead (a version its own index serves)."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

from modelwright.errors import InvalidInput
from modelwright.registry.flavors import get_flavor, requires_trust, untrusted_types
from modelwright.registry.uri import model_uri
from modelwright.registry.wheel import build_running_wheel, running_version

__all__ = ["PackageSpec", "write_package"]


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
{pinned}
FROM python:{python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY requirements.txt .
{copy_wheels}RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home --uid 10001 model && chown -R model /app
USER model
EXPOSE {port}
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/health')"
CMD ["python", "serve.py", "--host", "0.0.0.0", "--port", "{port}"]
"""

_README = """# {name} v{version}, packaged by modelwright

`{uri}`, a {flavor} model with digest
`{digest}`.

`serve.py` serves it with the API of `modelwright serve`: `POST /invocations`, the Open
Inference Protocol under `/v2`, `/health`. It checks the files in `model/` against the digest
before the first request.

{loading}

## Run

    pip install -r requirements.txt    # from this directory
    python serve.py --port {port}

or as an image: `docker build -t {image} .`, then `docker run -p {port}:{port} {image}`.

## What is pinned

{pinned}

modelwright's own dependencies are not pinned: pip picks versions in the ranges its metadata
declares.
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
        if modelwright_requirement is not None:
            modelwright_requirement = modelwright_requirement.strip()
            if len(modelwright_requirement.splitlines()) != 1:
                raise InvalidInput(
                    "modelwright_requirement: one requirement line is needed, such as "
                    f"modelwright=={running_version() or 'VERSION'} (got {modelwright_requirement!r})",
                    details={"field": "modelwright_requirement"},
                )
        # None: the package carries a wheel of the running modelwright.
        self.modelwright_requirement = modelwright_requirement

    @property
    def uri(self) -> str:
        return model_uri(self.name, self.version)


def write_package(spec: PackageSpec, out: Path, *, kubernetes: bool = False) -> list[Path]:
    """Write everything but ``out/model`` (the caller puts the verified artifact there)."""
    out.mkdir(parents=True, exist_ok=True)
    trust, loading = _trust(spec)
    written = []

    def put(name: str, text: str) -> None:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)

    pin = _pin_modelwright(spec, out)
    if pin.wheel is not None:
        written.append(pin.wheel)
    model_reqs = [r for r in spec.requirements if not _is_modelwright(r)]
    put("requirements.txt", "\n".join([pin.requirement, *model_reqs]) + "\n")
    put(
        "serve.py",
        _ENTRY.format(
            name=spec.name,
            version=str(spec.version),
            digest=spec.digest,
            trust="".join(f", {json.dumps(arg)}" for arg in trust),
        ),
    )
    pinned = [
        f"modelwright {pin.says}",
        "the model's libraries at the versions it was logged with: "
        + (", ".join(model_reqs) or "none"),
        f"Python {spec.python} (the base image)",
    ]
    put(
        "Dockerfile",
        _DOCKERFILE.format(
            uri=spec.uri,
            digest=spec.digest,
            python=spec.python,
            port=spec.port,
            pinned=_wrap(f"Pinned (README.md says more): {'; '.join(pinned)}.", "# ", "# "),
            copy_wheels="" if pin.wheel is None else "COPY wheels/ wheels/\n",
        ),
    )
    put(
        "README.md",
        _README.format(
            name=spec.name,
            version=spec.version,
            uri=spec.uri,
            flavor=spec.flavor,
            digest=spec.digest,
            loading=_wrap(loading, "", ""),
            port=spec.port,
            image=spec.image,
            pinned="\n".join(_wrap(f"{item}.", "- ", "  ") for item in pinned),
        ),
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
                **pin.about,
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


def _trust(spec: PackageSpec) -> tuple[list[str], str]:
    """The trust ``serve.py`` gives the model, as arguments, and what the README says of it.
    A skops model never needs pickle's: the types skops does not trust by default are named,
    those the model's metadata declares (covered by the digest), and no other is loaded."""
    flavor = get_flavor(spec.flavor)
    if flavor.pickle_based:
        said = "runs code from the artifact (pickle), which `serve.py` allows with `--trust-pickle`"
        return ["--trust-pickle"], f"Loading the model {said}."
    types = untrusted_types(spec.flavor_meta)
    if not requires_trust(flavor, spec.flavor_meta):
        return [], "Loading the model runs no code from the artifact."
    said = (
        "constructs types skops does not trust by default, which `serve.py` names with "
        f"`--trust-types` (no other type is loaded): {', '.join(types)}"
    )
    return ["--trust-types", ",".join(types)], f"Loading the model {said}."


class _Pin(NamedTuple):
    requirement: str  # the line of requirements.txt
    says: str  # what the README and the Dockerfile say of it
    about: dict[str, Any]  # what package.json records
    wheel: Path | None  # the bundled wheel


def _pin_modelwright(spec: PackageSpec, out: Path) -> _Pin:
    version = running_version()
    if spec.modelwright_requirement is not None:
        requirement = spec.modelwright_requirement
        return _Pin(
            requirement,
            f"as {requirement}",
            {"modelwright": version, "requirement": requirement},
            None,
        )
    wheel = build_running_wheel(out / "wheels")
    sha256 = hashlib.sha256(wheel.read_bytes()).hexdigest()
    says = (
        f"{version} from the bundled wheel wheels/{wheel.name} (sha256:{sha256}), built "
        "from the modelwright that wrote this package"
    )
    about = {"modelwright": version, "wheel": wheel.name, "sha256": sha256}
    # A relative path: pip reads it from the directory it runs in (the package's, or the
    # image's WORKDIR, where the Dockerfile copies wheels/ before installing).
    return _Pin(f"./wheels/{wheel.name}", says, about, wheel)


def _wrap(text: str, first: str, rest: str) -> str:
    return textwrap.fill(
        text,
        92,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _is_modelwright(requirement: str) -> bool:
    return re.match(r"modelwright\b(?![-_.])", requirement.strip(), re.IGNORECASE) is not None


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
