"""The wheel of the running modelwright that a package carries: every file of the package that
runs, the metadata of its distribution, a RECORD whose hashes hold, the same bytes each time."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata
import io
import zipfile
from email.parser import Parser
from pathlib import Path

import modelwright
from modelwright.registry.wheel import build_running_wheel


def test_the_wheel_holds_the_running_package_and_its_metadata(tmp_path: Path) -> None:
    path = build_running_wheel(tmp_path / "a")
    assert path.read_bytes() == build_running_wheel(tmp_path / "b").read_bytes()
    version = importlib.metadata.version("modelwright")
    assert path.name == f"modelwright-{version}-py3-none-any.whl"
    info = f"modelwright-{version}.dist-info"
    root = Path(modelwright.__file__).resolve().parent
    package = {
        f"modelwright/{p.relative_to(root).as_posix()}": p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    }
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert {n for n in names if not n.startswith(f"{info}/")} == set(package)
        for name, file in package.items():
            assert archive.read(name) == file.read_bytes(), name
        metadata = Parser().parsestr(archive.read(f"{info}/METADATA").decode())
        assert (metadata["Name"], metadata["Version"]) == ("modelwright", version)
        assert (
            "modelwright = modelwright.cli:main"
            in archive.read(f"{info}/entry_points.txt").decode()
        )
        wheel = archive.read(f"{info}/WHEEL").decode().splitlines()
        assert {"Wheel-Version: 1.0", "Root-Is-Purelib: true", "Tag: py3-none-any"} <= set(wheel)
        assert names[-1] == f"{info}/RECORD"
        rows = list(csv.reader(io.StringIO(archive.read(names[-1]).decode())))
        assert [row[0] for row in rows] == names
        assert rows[-1] == [names[-1], "", ""]
        for name, digest, size in rows[:-1]:
            data = archive.read(name)
            hashed = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert (digest, int(size)) == (f"sha256={hashed.decode()}", len(data)), name
