"""The server of a packaged model: what ``serve.py`` of ``modelwright model package`` runs.

It is the model server ``modelwright serve`` runs for each deployment (``create_model_app``:
MLflow's scoring protocol on ``POST /invocations``, the Open Inference Protocol under ``/v2``,
``/health``, ``/ping``, ``/metrics``), over the files beside ``serve.py`` instead of a
platform: they are checked against the package's digest before the first request.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Collection
from pathlib import Path

from modelwright.registry.artifact import load_dir
from modelwright.registry.predict import LoadedModel
from modelwright.serving.app import create_model_app

__all__ = ["load_packaged", "main"]


def load_packaged(
    model_dir: Path,
    *,
    digest: str | None = None,
    trusted: bool = False,
    trusted_types: Collection[str] = (),
) -> LoadedModel:
    raw, manifest = load_dir(
        model_dir, expected_digest=digest, trusted=trusted, trusted_types=trusted_types
    )
    return LoadedModel(raw=raw, manifest=manifest, digest=digest)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve a packaged modelwright model.")
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--digest", default=os.environ.get("MODELWRIGHT_MODEL_DIGEST"))
    parser.add_argument("--name", default="model", help="The model's name under /v2/models.")
    parser.add_argument("--version", default="1", help="The version /v2/models reports.")
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="Allow flavors whose loading runs code from the artifact (the packager sets it).",
    )
    parser.add_argument(
        "--trust-types",
        type=lambda names: [n for n in names.split(",") if n],
        default=[],
        help="Comma-separated types skops does not trust by default that the model may hold "
        "(the packager names those the model's metadata declares); no other type is loaded.",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    import uvicorn

    model = load_packaged(
        args.model_dir,
        digest=args.digest,
        trusted=args.trust_pickle,
        trusted_types=args.trust_types,
    )
    app = create_model_app(model, name=args.name, version=args.version)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="on")
