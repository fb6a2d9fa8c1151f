"""What a pipeline's run tells whoever records it, as Kedro's hooks do.

The scheduler and the node tasks call these at fixed points and know nothing of what is
done with them; the platform's recorder (``_recorder.RecordingHooks``) attaches through
them, so tracking lives outside the loop that runs the nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from modelwright.pipelines import models as pm
from modelwright.pipelines.hashing import Serialized

__all__ = ["RunHooks"]


class RunHooks(Protocol):
    def before_pipeline_run(
        self, params: Mapping[str, str], config: bytes, dag: pm.PipelineDag
    ) -> None:
        """Before the first node: the run's parameters (flattened, as text), its whole
        configuration (JSON) and the DAG of the nodes it runs."""
        ...

    def after_node_run(self, record: pm.NodeRun, objects: Sequence[Serialized]) -> None:
        """A node finished, or was restored from the cache (no ``objects`` then): its record,
        and the stored form of the outputs its record names, to be stored."""
        ...

    def on_node_error(self, record: pm.NodeRun) -> None:
        """A node raised (or its outputs could not be kept): its failed record."""
        ...

    def after_pipeline_run(self, end: pm.PipelineRunEnd, metrics: Mapping[str, float]) -> None:
        """The run ended as ``end`` (a failed node included), with the metrics its outputs
        hold. Raises what could not be recorded."""
        ...

    def on_pipeline_error(self, end: pm.PipelineRunEnd) -> None:
        """The run stopped on an error of its own (not a node's): record what can be, never
        raise (the error is raised by the caller)."""
        ...
