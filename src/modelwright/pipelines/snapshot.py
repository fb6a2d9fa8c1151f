"""A project's code as one archive, so that a worker elsewhere runs what the submitter had.

The archive is reproducible (sorted members, no times or owners), so an unchanged project
gives the same digest and is stored once. Version-control folders, virtual environments,
caches and the embedded platform's home are left out.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

from modelwright.errors import InvalidInput

__all__ = ["MAX_SNAPSHOT_BYTES", "pack_project", "unpack_project"]

MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024
_SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "__pycache__",
    ".modelwright",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    "node_modules",
}
_SKIP_SUFFIXES = (".pyc", ".pyo")


def _members(project: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(project):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(root, name)
            if not name.endswith(_SKIP_SUFFIXES) and path.is_file() and not path.is_symlink():
                found.append(path)
    return found


def pack_project(project: Path, *, limit: int = MAX_SNAPSHOT_BYTES) -> bytes:
    """The project's files as a reproducible tar.gz."""
    project = project.resolve()
    if not project.is_dir():
        raise InvalidInput(
            f"project '{project}' is not a directory", details={"project": str(project)}
        )
    files = _members(project)
    total = sum(p.stat().st_size for p in files)
    if total > limit:
        raise InvalidInput(
            f"project '{project}' holds {total:,} bytes of files, more than a snapshot may "
            f"({limit:,}): keep data in datasets, not in the project folder",
            details={"project": str(project), "bytes": total},
        )
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            info = tarfile.TarInfo(path.relative_to(project).as_posix())
            info.size = path.stat().st_size
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            with path.open("rb") as f:
                tar.addfile(info, f)
    return gzip.compress(raw.getvalue(), mtime=0)


def unpack_project(archive: Path, dest: Path) -> Path:
    """Extract into ``dest``, refusing members that would land outside it."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise InvalidInput(f"the project snapshot cannot be unpacked: {exc}") from exc
    return dest
