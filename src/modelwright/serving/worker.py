"""One worker process of a deployment, started by the supervisor of ``modelwright serve``.

    python -m modelwright.serving.worker '<WorkerSpec as JSON>'

The supervisor opens the deployment's listening socket and hands its file descriptor to every
worker of that deployment (the pre-fork model): the kernel spreads connections over the
workers, and a worker that dies and is restarted never leaves a gap in the port — connections
wait in the socket's backlog until a worker accepts them. The model is loaded, and verified
against the deployment's digest, before the worker accepts anything.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time

from pydantic import BaseModel

from modelwright.endpoints.models import ServingConfig

__all__ = ["WorkerSpec", "main"]

log = logging.getLogger("modelwright.serving.worker")


class WorkerSpec(BaseModel):
    """What a worker serves. Connection settings come from the ``MODELWRIGHT_*`` environment."""

    fd: int
    workspace: str
    environment: str
    endpoint: str
    deployment: str
    model_uri: str
    version: int
    digest: str
    config: ServingConfig
    capture_url: str | None = None
    # Who loads the model on an embedded platform (default: the token's owner, or the local
    # admin): a promotion's smoke gate serves the version as the principal who requested it.
    principal: str | None = None


def _exit_with_parent(parent: int) -> None:
    """Workers must not outlive a supervisor killed with SIGKILL (no chance to stop them)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="mw-parent-watch", daemon=True).start()


def build_app(spec: WorkerSpec) -> object:
    from modelwright.client import connect
    from modelwright.errors import ArtifactCorrupted
    from modelwright.serving.app import create_model_app
    from modelwright.serving.capture import Capture

    url = os.environ.get("MODELWRIGHT_URL") or None
    token = os.environ.get("MODELWRIGHT_TOKEN") or None
    with connect(url, token=token, principal=spec.principal) as client:
        model = client.load_model(
            spec.model_uri, workspace=spec.workspace, environment=spec.environment
        )
    if model.digest != spec.digest:
        # The registry is immutable; a different digest means the metadata was tampered with.
        raise ArtifactCorrupted(
            f"deployment '{spec.deployment}': model {spec.model_uri} has digest {model.digest}, "
            f"the deployment recorded {spec.digest}"
        )
    capture = None
    if spec.capture_url is not None:
        # Always present so that mirrored (shadow) requests are captured whatever the rate.
        capture = Capture(
            spec.capture_url,
            endpoint=spec.endpoint,
            deployment=spec.deployment,
            model=spec.model_uri,
            rate=spec.config.capture_rate,
        )
    return create_model_app(
        model, name=spec.endpoint, version=spec.version, config=spec.config, capture=capture
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    args = sys.argv[1:] if argv is None else argv
    spec = WorkerSpec.model_validate_json(args[0])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _exit_with_parent(os.getppid())
    sock = socket.socket(fileno=spec.fd)
    app = build_app(spec)
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
