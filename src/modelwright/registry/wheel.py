"""A wheel of the running modelwright, which a model package carries: modelwright is not on a
public package index, so the image built from a package installs the code that wrote it.

No build backend runs (none needs to be installed, nothing is downloaded): the wheel holds the
files of the imported ``modelwright`` package, which is the code that runs whether it was
installed from a wheel or is an editable source tree, and the metadata of its installed
distribution (name, version, dependencies, entry points), laid out as the wheel format says
(PEP 427, with its RECORD of hashes). Entries are sorted and dated alike, so the same code
gives the same bytes and a package rebuilt from it is identical.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import io
import zipfile
from pathlib import Path

from modelwright.errors import InvalidInput

__all__ = ["build_running_wheel", "running_version"]

_DIST = "modelwright"
# The earliest date a zip entry can hold: no entry carries the time it was built at.
_DATE = (1980, 1, 1, 0, 0, 0)
# The dist-info files that come from the build (the others, RECORD, INSTALLER,
# direct_url.json and the like, are written by whoever installed it).
_FROM_BUILD = ("METADATA", "entry_points.txt")


def running_version() -> str | None:
    """The installed version of modelwright, or None when it runs from a bare source tree."""
    try:
        return importlib.metadata.version(_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None


def build_running_wheel(dest: Path) -> Path:
    """Write ``modelwright-VERSION-py3-none-any.whl`` of the running modelwright into
    ``dest`` and return its path."""
    try:
        dist = importlib.metadata.distribution(_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise InvalidInput(
            "modelwright_requirement: this modelwright runs from a source tree that is not "
            "installed, so there is no metadata to build its wheel from: install it "
            "(pip install -e .) or name the modelwright requirement the package should pin",
            details={"field": "modelwright_requirement"},
        ) from None
    info = f"{_DIST}-{dist.version}.dist-info"
    # The package this module is part of: the code that runs.
    entries = _package_files(Path(__file__).resolve().parents[1])
    for name in _FROM_BUILD:
        text = dist.read_text(name)
        if text is not None:
            entries.append((f"{info}/{name}", text.encode()))
    for file in dist.files or ():
        # License files a build placed in the metadata (PEP 639) go along with it.
        if file.parts[:2] == (info, "licenses"):
            entries.append((file.as_posix(), Path(str(file.locate())).read_bytes()))
    wheel_meta = (
        "Wheel-Version: 1.0\n"
        f"Generator: modelwright {dist.version}\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    entries.append((f"{info}/WHEEL", wheel_meta.encode()))
    record = f"{info}/RECORD"
    entries.append((record, _record(entries, record)))
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{_DIST}-{dist.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            entry = zipfile.ZipInfo(name, date_time=_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return path


def _package_files(root: Path) -> list[tuple[str, bytes]]:
    """Every file of the package under ``root`` but compiled bytecode, by wheel path."""
    found = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root.parent)
        if "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo") or not path.is_file():
            continue
        found.append((rel.as_posix(), path.read_bytes()))
    return found


def _record(entries: list[tuple[str, bytes]], record: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([name, f"sha256={digest}", len(data)])
    writer.writerow([record, "", ""])
    return out.getvalue().encode()
