"""A pipeline run's catalog I/O: what each name a node reads holds, and where outputs go.

Parameters come from the configuration; names bound to files are read from and written to
the environment's datastores; registered datasets go through the platform, with the node's
run as their reader or writer; other names stay in memory. An output restored from the
cache stays in the artifact store until a node reads it; one bound to a file is written
again if the file is not there byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwright.errors import InvalidInput
from modelwright.objects.models import ObjectScope
from modelwright.pipelines import models as pm
from modelwright.pipelines.catalog import (
    FILE_TYPES,
    Catalog,
    Location,
    load_file,
    metric_values,
    resolve_locations,
    save_file,
)
from modelwright.pipelines.config import get_param
from modelwright.pipelines.hashing import Serialized, deserialize, param_hash, serialize, sha256
from modelwright.pipelines.node import PARAMETERS, Node, is_param
from modelwright.pipelines.pipeline import Pipeline

if TYPE_CHECKING:
    from modelwright.client import Client

__all__ = ["Output", "RunCatalog", "read_object"]


def read_object(client: Client, obj: pm.OutputObject) -> Any:
    """A stored output, read back from the artifact store."""
    data = client.transport.get_object(ObjectScope.artifacts(), obj.digest)
    if not isinstance(data, bytes):  # a path is only returned when one is asked for
        raise TypeError(f"expected the bytes of object {obj.digest}, got {type(data).__name__}")
    return deserialize(data, obj.format)


@dataclass
class Output:
    """A dataset produced in the run: its value once loaded, its stored form if it has one."""

    value: Any = None
    loaded: bool = False
    obj: pm.OutputObject | None = None
    why_not: str = ""  # why the value has no stored form


class RunCatalog:
    """The datasets of one pipeline's run in one environment."""

    def __init__(
        self,
        client: Client,
        entries: Catalog,
        parameters: dict[str, Any],
        *,
        workspace: str,
        environment: str,
        project: Path,
    ) -> None:
        self.client = client
        self.entries = entries
        self.parameters = parameters
        self.ws = workspace
        self.env = environment
        self.project = project
        self.locations: dict[str, Location] = {}
        self.data: dict[str, Output] = {}
        self.input_hashes: dict[str, str] = {}  # of the pipeline's free inputs
        self.produced: set[str] = set()

    # -- before any node runs -----------------------------------------------------------------
    def prepare(self, pipeline: Pipeline) -> None:
        """Check everything that can be checked before a node runs: every input and parameter
        defined, data isolation, free inputs readable (files are read now)."""
        self.produced = set(pipeline.producers)
        if any(e.type in FILE_TYPES and e.path is not None for e in self.entries.values()):
            # Only files have locations (and may be production data): the workspace's
            # datastores are asked for when the catalog has some.
            info = self.client.get_workspace(self.ws)
            stores: dict[str, list[tuple[str, str, str]]] = {
                e.name: [(d.name, d.url, d.classification) for d in e.datastores]
                for e in info.environments
            }
            production = next(e.production for e in info.environments if e.name == self.env)
            self.locations = resolve_locations(
                self.entries,
                environment=self.env,
                production=production,
                datastores=stores,
                project=self.project,
            )
        for n in pipeline:
            self._check_defined(n)
        for i in pipeline.inputs():
            entry = self.entries[i]
            if entry.type in FILE_TYPES:
                value, raw = load_file(entry.type, self.locations[i].url)
                self.data[i] = Output(value=value, loaded=True)
                self.input_hashes[i] = sha256(raw)
            elif entry.type == "registered" and entry.dataset:
                version = self.client.get_dataset_version(
                    entry.dataset, workspace=self.ws, environment=self.env
                )
                self.input_hashes[i] = version.digest

    def _check_defined(self, n: Node) -> None:
        for i in n.dataset_inputs:
            if i in self.produced:
                continue
            entry = self.entries.get(i)
            if entry is None or entry.type in ("memory", "metrics"):
                raise InvalidInput(
                    f"node '{n.name}' reads '{i}', which no node produces and the catalog "
                    f"of environment '{self.env}' does not define (add it to "
                    "conf/base/catalog.yml or conf/<env>/catalog.yml)",
                    details={"node": n.name, "dataset": i},
                )
        for p in n.params:
            try:
                get_param(self.parameters, p)
            except KeyError:
                raise InvalidInput(
                    f"node '{n.name}' reads parameter '{p}', which the parameters of "
                    f"environment '{self.env}' do not define",
                    details={"node": n.name, "parameter": p},
                ) from None

    # -- reading ------------------------------------------------------------------------------
    def param(self, name: str) -> Any:
        """``parameters`` (all of them) or ``params:<dotted.name>``."""
        if name == PARAMETERS:
            return self.parameters
        return get_param(self.parameters, name.removeprefix("params:"))

    def value(self, name: str, run_id: str) -> Any:
        """What a node reads as ``name``; ``run_id`` is recorded as a registered dataset's
        reader."""
        if is_param(name):
            return self.param(name)
        entry = self.entries.get(name)
        if entry is not None and entry.type == "registered" and name not in self.produced:
            return self.client.load_dataset(
                str(entry.dataset), workspace=self.ws, environment=self.env, run_id=run_id
            )
        out = self.data[name]
        if not out.loaded and out.obj is not None:  # restored from the cache, read once
            out.value, out.loaded = read_object(self.client, out.obj), True
        return out.value

    def hashes(self, n: Node) -> tuple[dict[str, str], list[str]]:
        """The hashes of ``n``'s inputs known now, and the inputs whose hash is not (outputs
        of upstream nodes that have not run yet)."""
        known: dict[str, str] = {}
        unknown: list[str] = []
        for i in n.inputs:
            if is_param(i):
                known[i] = param_hash(self.param(i))
            elif i in self.input_hashes:
                known[i] = self.input_hashes[i]
            elif (out := self.data.get(i)) is not None and out.obj is not None:
                known[i] = out.obj.digest
            else:
                unknown.append(i)
        return known, unknown

    def digests(self, n: Node) -> list[str]:
        """The stored objects ``n`` reads (lineage)."""
        return [
            o.obj.digest
            for i in n.dataset_inputs
            if (o := self.data.get(i)) is not None and o.obj is not None
        ]

    def why_not_stored(self, name: str) -> str:
        """Why an output of this run has no stored form, or ''."""
        out = self.data.get(name)
        return out.why_not if name in self.produced and out is not None else ""

    def loaded(self) -> dict[str, Any]:
        return {k: d.value for k, d in self.data.items() if d.loaded}

    def stored(self) -> dict[str, pm.OutputObject]:
        return {k: d.obj for k, d in self.data.items() if d.obj is not None}

    # -- writing ------------------------------------------------------------------------------
    def keep(self, name: str, value: Any, run_id: str) -> Serialized | None:
        """Keep an output a node returned: in memory, where the catalog binds it (``run_id``
        as a registered dataset's writer), and in its stored form, which is returned for the
        caller to store."""
        entry = self.entries.get(name)
        if entry is not None and entry.type == "metrics":
            value = metric_values(name, value)  # anything else fails the node, saying so
        serial = serialize(value)
        out = self.data[name] = Output(value=value, loaded=True)
        if isinstance(serial, str):
            out.why_not = serial
        else:
            out.obj = pm.OutputObject(
                digest=serial.digest, format=serial.format, size=len(serial.data)
            )
        self._save(name, value, run_id, out.obj)
        return None if isinstance(serial, str) else serial

    def restore(self, outputs: Mapping[str, pm.OutputObject]) -> None:
        """Outputs of a node restored from the cache."""
        for name, obj in outputs.items():
            self.data[name] = Output(obj=obj)
            entry = self.entries.get(name)
            if entry is not None and entry.type in FILE_TYPES and not self._in_place(name, obj):
                # The file was deleted or changed since: it is written again.
                value = read_object(self.client, obj)
                self.data[name] = Output(value=value, loaded=True, obj=obj)
                save_file(entry.type, self.locations[name].url, value)

    def _save(self, name: str, value: Any, run_id: str, obj: pm.OutputObject | None) -> None:
        entry = self.entries.get(name)
        if entry is None or entry.type in ("memory", "metrics"):
            return
        if entry.type == "registered" and entry.dataset:
            ref = entry.dataset.partition("@")[0]
            self.client.register_dataset(
                ref, value, workspace=self.ws, environment=self.env, run_id=run_id
            )
            return
        if obj is None or not self._in_place(name, obj):
            save_file(entry.type, self.locations[name].url, value)

    def _in_place(self, name: str, obj: pm.OutputObject) -> bool:
        """Whether the file ``name`` is bound to holds ``obj`` byte for byte."""
        kind = self.entries[name].type
        if kind != obj.format:
            return False
        try:
            _, raw = load_file(kind, self.locations[name].url)
        except InvalidInput:
            return False
        return sha256(raw) == obj.digest

    def registered_io(self, n: Node) -> bool:
        """Whether ``n`` reads a registered dataset from the platform or writes one (the
        dataset version names the run that read or wrote it)."""
        return any(
            (e := self.entries.get(name)) is not None
            and e.type == "registered"
            and (name in n.outputs or name not in self.produced)
            for name in (*n.dataset_inputs, *n.outputs)
        )
