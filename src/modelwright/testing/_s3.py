"""A throwaway S3-compatible server (moto) on a free loopback port, for tests and benchmarks.

It runs in a child process rather than a thread: the emulator then competes with neither the
GIL nor the warning filters of the process under test. It keeps everything in memory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Self

__all__ = ["LocalS3Server"]

# Dummy credentials: moto accepts any, and real ones must never reach a test.
_KEY = "modelwright-test"
_SECRET = "modelwright-test-secret"  # noqa: S105 - not a secret, the emulator accepts anything
# Not us-east-1: s3fs always sends a LocationConstraint, which S3 refuses for that region.
_REGION = "eu-west-1"


class LocalS3Server:
    """``with LocalS3Server() as s3: open_artifact_store(f"s3://{s3.new_bucket()}", **s3.storage_options)``.

    Needs the ``moto[server]`` and ``s3fs`` packages (the ``dev`` extra).
    """

    def __init__(self, *, start_timeout: float = 30.0) -> None:
        self.start_timeout = start_timeout
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = Path(tempfile.gettempdir()) / f"modelwright-moto-{uuid.uuid4().hex[:8]}.log"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options that point at this server (pass to ``open_artifact_store``)."""
        return {
            "endpoint_url": self.endpoint_url,
            "key": _KEY,
            "secret": _SECRET,
            "client_kwargs": {"region_name": _REGION},
        }

    def start(self) -> None:
        # A free port can be taken between probing and binding: try a few.
        for _ in range(5):
            self.port = _free_port()
            with self._log.open("ab") as log:  # the child keeps its own copy of the handle
                self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed args
                    [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_child_env(),
                )
            if self._wait_ready(self._proc):
                return
            self.stop()
        raise RuntimeError(f"the moto S3 server did not start; see {self._log}")

    def _wait_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                time.sleep(0.05)
                continue
            return True
        return False

    def new_bucket(self, prefix: str = "mw") -> str:
        """Create a bucket with a unique name (safe across parallel test workers)."""
        import s3fs

        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        s3fs.S3FileSystem(**self.storage_options).mkdir(name)
        return name

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.unlink(missing_ok=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # Nothing in the emulator needs to reach out; keep AWS config of the machine out of it.
    env.update(
        AWS_ACCESS_KEY_ID=_KEY,
        AWS_SECRET_ACCESS_KEY=_SECRET,
        AWS_DEFAULT_REGION=_REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env
