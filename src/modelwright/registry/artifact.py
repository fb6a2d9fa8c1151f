"""A saved model on disk: the flavor's files plus ``modelwright.json``, the manifest.

The manifest names the flavor, its load metadata, the signature, the requirements and every
file with its sha256. The sha256 of the manifest's bytes is the version's digest, so one
digest checks everything: the manifest against the digest, each file against the manifest.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field, ValidationError

from modelwright.errors import (
    ArtifactCorrupted,
    InvalidInput,
    ModelwrightError,
    PermissionDenied,
    user_frame,
)
from modelwright.registry.flavors import flavor_for, get_flavor, requires_trust, untrusted_types
from modelwright.registry.flavors.base import Flavor
from modelwright.registry.signature import Signature

__all__ = [
    "MANIFEST",
    "FileEntry",
    "Manifest",
    "load_dir",
    "load_verified",
    "read_manifest",
    "save_dir",
    "sha256_file",
]

MANIFEST = "modelwright.json"
FORMAT = "modelwright.model/1"


class FileEntry(BaseModel):
    path: str
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Manifest(BaseModel):
    format: str = FORMAT
    flavor: str
    flavor_meta: dict[str, Any] = Field(default_factory=dict)
    signature: Signature | None = None
    requirements: list[str] = Field(default_factory=list)
    description: dict[str, Any] = Field(default_factory=dict)
    files: list[FileEntry]
    input_example: dict[str, Any] | None = Field(
        default=None, description="The first rows of the input example, as a scoring payload."
    )

    def to_bytes(self) -> bytes:
        data = self.model_dump(mode="json")
        if data["input_example"] is None:
            # Left out: a model saved without an example keeps the digest it always had.
            del data["input_example"]
        if data["signature"] is not None and not data["signature"]["methods"]:
            del data["signature"]["methods"]  # likewise for one without recorded methods
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:  # streamed into one reused buffer
        return hashlib.file_digest(f, "sha256").hexdigest()


def parse_manifest(data: bytes, where: str) -> Manifest:
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        raise InvalidInput(
            f"{where} is not a model manifest: {exc.errors(include_url=False)[0]['msg']}",
            details={"field": "manifest"},
        ) from None
    if manifest.format != FORMAT:
        raise InvalidInput(f"{where}: unknown manifest format {manifest.format!r}")
    for entry in manifest.files:
        p = Path(entry.path)
        if p.is_absolute() or ".." in p.parts or entry.path == MANIFEST:
            raise InvalidInput(f"{where}: bad file path {entry.path!r}")
    return manifest


def save_dir(
    model: Any,
    path: Path,
    *,
    flavor: Flavor | None = None,
    signature: Signature | None = None,
    requirements: list[str] | None = None,
    input_example: dict[str, Any] | None = None,
) -> tuple[Manifest, bytes]:
    """Save ``model`` into the empty directory ``path``; return the manifest and its bytes.
    ``input_example`` is a scoring payload (``signature.example_payload``)."""
    flavor = flavor or flavor_for(model)
    path.mkdir(parents=True, exist_ok=True)
    meta = flavor.save(model, path)
    files = [
        FileEntry(path=p.relative_to(path).as_posix(), digest=sha256_file(p), size=p.stat().st_size)
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    ]
    manifest = Manifest(
        flavor=flavor.name,
        flavor_meta=meta,
        signature=signature,
        requirements=requirements or [],
        description=flavor.describe(model),
        files=files,
        input_example=input_example,
    )
    data = manifest.to_bytes()
    (path / MANIFEST).write_bytes(data)
    return manifest, data


def read_manifest(path: Path, expected_digest: str | None = None) -> Manifest:
    """The manifest of a model directory, with every file checked against it."""
    file = path / MANIFEST
    if not file.is_file():
        raise InvalidInput(
            f"'{path}' is not a saved model (no {MANIFEST})", details={"path": str(path)}
        )
    data = file.read_bytes()
    if expected_digest is not None and hashlib.sha256(data).hexdigest() != expected_digest:
        raise ArtifactCorrupted(
            f"model manifest {file} does not hash to {expected_digest}: refusing to load it",
            details={"digest": expected_digest},
        )
    manifest = parse_manifest(data, str(file))
    for entry in manifest.files:
        f = path / entry.path
        if not f.is_file():
            raise ArtifactCorrupted(f"model file {entry.path} is missing from '{path}'")
        got = sha256_file(f)
        if got != entry.digest:
            raise ArtifactCorrupted(
                f"model file {entry.path} has sha256 {got}, its manifest says {entry.digest}: "
                "refusing to load it",
                details={"path": entry.path, "digest": entry.digest},
            )
    return manifest


def load_dir(
    path: Path,
    *,
    expected_digest: str | None = None,
    trusted: bool = False,
    trusted_types: Collection[str] = (),
    flavor: str | None = None,
) -> tuple[Any, Manifest]:
    """Verify, then load. Artifacts that run code on load (pickles) need ``trusted``: the
    registry passes it for its own verified artifacts; anything else must opt in. A skops
    model with types skops does not trust by default needs ``trusted``, or those types named
    in ``trusted_types``."""
    manifest = read_manifest(path, expected_digest)
    loaded = load_verified(
        path, manifest, trusted=trusted, trusted_types=trusted_types, flavor=flavor
    )
    return loaded, manifest


def load_verified(
    path: Path,
    manifest: Manifest,
    *,
    trusted: bool = False,
    trusted_types: Collection[str] = (),
    flavor: str | None = None,
) -> Any:
    """Load a model whose files were just checked against ``manifest`` (by ``read_manifest``,
    or by fetching each one by its digest): the files are not hashed again."""
    if flavor is not None and flavor != manifest.flavor:
        raise InvalidInput(
            f"flavor: the model is a {manifest.flavor} model and cannot be loaded as {flavor}",
            details={"field": "flavor", "flavor": manifest.flavor},
        )
    impl = get_flavor(manifest.flavor)
    if not trusted and requires_trust(impl, manifest.flavor_meta, trusted_types):
        if impl.pickle_based:
            what = "(pickle), and loading it runs code from the file"
        else:
            types = sorted(set(untrusted_types(manifest.flavor_meta)) - set(trusted_types))
            what = f"(with types skops does not trust by default: {', '.join(types)})"
        raise PermissionDenied(
            f"the model in '{path}' is {manifest.flavor} {what}: pass trust_pickle=True if you "
            "trust its source",
            details={"flavor": manifest.flavor},
        )
    try:
        return impl.load(path, manifest.flavor_meta)
    except ImportError as exc:
        raise InvalidInput(
            f"flavor: loading a {manifest.flavor} model needs {exc.name or exc}: install "
            f"{', '.join(manifest.requirements) or impl.packages[0]}",
            details={"field": "flavor"},
        ) from None
    except ModelwrightError:
        raise
    except Exception as exc:
        # Code the model runs as it loads (a custom class's unpickling, a missing module of
        # the project) failed: say where, the traceback stays chained.
        where = user_frame(exc)
        raise InvalidInput(
            f"loading the {manifest.flavor} model in '{path}' failed: "
            f"{type(exc).__name__}: {exc}" + (f"\n  {where}" if where else ""),
            details={"flavor": manifest.flavor, "where": where},
        ) from exc


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
