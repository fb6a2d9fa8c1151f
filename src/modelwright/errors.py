"""Typed errors shared by every layer.

Each error has a stable ``code`` and an HTTP ``status``; the REST server renders any of them
as one JSON body (``{"error": {"code", "message", "details"}}``), the HTTP client turns that
body back into the same class, and the CLI prints the message on one line.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from modelwright.runner import PipelineResult

__all__ = [
    "AlreadyExists",
    "ArtifactCorrupted",
    "BatchFailed",
    "Conflict",
    "GateFailed",
    "InvalidInput",
    "ModelwrightError",
    "NodeFailed",
    "NotFound",
    "PermissionDenied",
    "QuotaExceeded",
    "ServiceUnavailable",
    "StorageError",
    "TooLarge",
    "Unauthenticated",
    "error_class_for_code",
    "error_headline",
    "failure_text",
    "user_frame",
]


class ModelwrightError(Exception):
    """Base of every error modelwright raises on purpose."""

    code: ClassVar[str] = "internal"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(ModelwrightError):
    """The request names something badly, or has the wrong shape."""

    code = "invalid_input"
    status = 400


class Unauthenticated(ModelwrightError):
    """No valid credential: a missing, malformed, unknown, expired or revoked token."""

    code = "unauthenticated"
    status = 401


class PermissionDenied(ModelwrightError):
    """The principal is known but no grant allows the action here."""

    code = "permission_denied"
    status = 403


class NotFound(ModelwrightError):
    code = "not_found"
    status = 404


class AlreadyExists(ModelwrightError):
    code = "already_exists"
    status = 409


class Conflict(ModelwrightError):
    """The request is well formed but contradicts the current state or a platform rule."""

    code = "conflict"
    status = 409


class TooLarge(ModelwrightError):
    """The request is bigger than the server's configured limit."""

    code = "too_large"
    status = 413


class QuotaExceeded(TooLarge):
    """The upload would take the principal past its quota."""

    code = "quota_exceeded"


class GateFailed(ModelwrightError):
    code = "gate_failed"
    status = 422


class ArtifactCorrupted(ModelwrightError):
    """Stored bytes no longer hash to their address: never load them."""

    code = "artifact_corrupted"
    status = 500


class ServiceUnavailable(ModelwrightError):
    """Worth retrying: the server, or its database, cannot answer right now."""

    code = "unavailable"
    status = 503


class StorageError(ModelwrightError):
    """A store refused to keep bytes: its disk is full, or it is read-only or not writable.

    507 (Insufficient Storage), not 503: retrying does not help until someone frees space or
    makes the store writable, so clients must not retry it as they retry ``unavailable``.
    ``details`` name the store (``store``: a datastore, the artifact store or the metadata
    database; ``location``) and the ``reason`` (``full``, ``read-only``, ``not-writable``).
    """

    code = "storage_error"
    status = 507


class BatchFailed(ModelwrightError):
    """A batch job stopped: too many rows failed, or a worker died. Chunks already done are
    kept for the next attempt of the same job."""

    code = "batch_failed"
    status = 422


class NodeFailed(ModelwrightError):
    """A pipeline node raised; its dependants did not run. ``result`` has every node's report."""

    code = "node_failed"

    def __init__(self, message: str, result: PipelineResult) -> None:
        super().__init__(message, details={"node": result.failed, "run_id": result.run_id})
        self.result = result


# Errors that travel over HTTP. ``BatchFailed`` and ``NodeFailed`` are raised where the work
# runs (in the caller's process, or a worker's), never by a service behind the server.
_BY_CODE: dict[str, type[ModelwrightError]] = {
    cls.code: cls
    for cls in (
        ModelwrightError,
        InvalidInput,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        AlreadyExists,
        Conflict,
        TooLarge,
        QuotaExceeded,
        GateFailed,
        ArtifactCorrupted,
        ServiceUnavailable,
        StorageError,
    )
}


def error_class_for_code(code: str) -> type[ModelwrightError]:
    """The error class for a code received over HTTP; unknown codes map to the base class."""
    return _BY_CODE.get(code, ModelwrightError)


# -- where the user's code failed ---------------------------------------------------------------
_PACKAGE = str(Path(__file__).resolve().parent) + os.sep


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots |= {os.path.join(p, "lib") for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return tuple(str(Path(r).resolve()) + os.sep for r in roots)


_LIBRARIES = _library_roots()


def _is_user_file(filename: str) -> bool:
    """Code of the user's own: not modelwright, not an installed package, not the stdlib."""
    if filename.startswith("<"):  # <frozen ...>, <string>
        return False
    path = str(Path(filename).resolve())
    if path.startswith(_PACKAGE) or path.startswith(_LIBRARIES):
        return False
    parts = Path(path).parts
    return "site-packages" not in parts and "dist-packages" not in parts


def _short(filename: str) -> str:
    """A path relative to the working directory when it is under it."""
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        return filename


def user_frame(exc: BaseException) -> str:
    """Where the user's own code was when ``exc`` was raised, on one line: ``at nodes.py:12
    in evaluate: return 1 / 0``; '' when no frame of the traceback (nor of the exception it
    was raised from) is user code. The last such frame is the one that failed, or that
    called the library that did."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = [
            f for f in traceback.extract_tb(current.__traceback__) if _is_user_file(f.filename)
        ]
        if frames:
            f = frames[-1]
            line = f" {f.line.strip()}" if f.line else ""
            return f"at {_short(f.filename)}:{f.lineno} in {f.name}:{line}"
        current = current.__cause__ or current.__context__
    return ""


def error_headline(error: str) -> tuple[str, str]:
    """The exception and where the user's code failed, from an error record written by
    ``failure_text``: its first line, and its second when that says where ('' otherwise)."""
    lines = error.strip().splitlines()
    head = lines[0] if lines else ""
    frame = lines[1].strip() if len(lines) > 1 and lines[1].startswith("  at ") else ""
    return head, frame


def failure_text(exc: BaseException, limit: int = 20_000) -> str:
    """An error record: the exception on the first line, where the user's code failed on the
    second (when that is known), then the full traceback; at most ``limit`` characters (the
    traceback's end is kept)."""
    head = (
        f"{type(exc).__name__}: {exc}".strip().splitlines()[0] if str(exc) else type(exc).__name__
    )
    frame = user_frame(exc)
    head = f"{head}\n  {frame}" if frame else head
    tb = "".join(traceback.format_exception(exc))
    room = max(limit - len(head) - 2, 0)
    return f"{head}\n\n{tb[-room:] if room else ''}"[:limit]
