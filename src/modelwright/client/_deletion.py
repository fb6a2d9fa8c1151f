"""Deleting and restoring in the client, and garbage collection (MLflow's method names)."""

from __future__ import annotations

from modelwright.api import data as data_ops
from modelwright.api import gc as gc_ops
from modelwright.api import registry as registry_ops
from modelwright.api import tracking as tracking_ops
from modelwright.client._data import DataMixin
from modelwright.data import models as dm
from modelwright.gc import models as gm
from modelwright.registry import models as rm
from modelwright.tracking import models as tr

__all__ = ["DeletionMixin"]


class DeletionMixin(DataMixin):
    # -- runs and experiments ------------------------------------------------------------------
    def delete_run(self, run_id: str, *, permanent: bool = False) -> tr.Deletion:
        """Delete a run and its child runs: hidden from searches and restorable. With
        ``permanent``, remove a run deleted for longer than the retention for good (its
        objects are freed by garbage collection)."""
        return self.call(tracking_ops.DELETE_RUN, run_id=run_id, permanent=permanent)

    def restore_run(self, run_id: str) -> tr.RunInfo:
        """Bring a deleted run back, with the child runs deleted with it."""
        return self.call(tracking_ops.RESTORE_RUN, run_id=run_id)

    def delete_experiment(
        self, name: str, *, workspace: str | None = None, permanent: bool = False
    ) -> tr.Deletion:
        """Delete an experiment with its runs (restorable); ``permanent`` as for runs."""
        return self.call(
            tracking_ops.DELETE_EXPERIMENT,
            workspace=self.resolve_workspace(workspace),
            name=name,
            permanent=permanent,
        )

    def restore_experiment(self, name: str, *, workspace: str | None = None) -> tr.ExperimentInfo:
        """Bring a deleted experiment back, with the runs deleted with it."""
        return self.call(
            tracking_ops.RESTORE_EXPERIMENT, workspace=self.resolve_workspace(workspace), name=name
        )

    # -- versions --------------------------------------------------------------------------------
    def delete_model_version(
        self, name: str, version: int, *, workspace: str | None = None
    ) -> rm.ModelVersionInfo:
        """Delete a model version for good; refused (``Conflict``, naming them) while an alias,
        an endpoint, a rollout or an open promotion uses it. Returns it as it was."""
        return self.call(
            registry_ops.DELETE_MODEL_VERSION,
            workspace=self.resolve_workspace(workspace),
            name=name,
            version=version,
        )

    def delete_dataset_version(
        self, ref: str, *, workspace: str | None = None, environment: str | None = None
    ) -> dm.DatasetVersionInfo:
        """Delete a dataset version (``name@v3`` or ``prod/name@v3``) for good; refused
        (``Conflict``, naming them) while the lineage of a model version or a monitor's
        baseline needs it. Returns it as it was."""
        return self.call(
            data_ops.DELETE_DATASET_VERSION, **self._version_ref(ref, workspace, environment)
        )

    # -- garbage collection -------------------------------------------------------------------
    def collect_garbage(self, *, dry_run: bool = False) -> gm.GarbageReport:
        """Delete the stored objects no live record names (a platform admin's action); with
        ``dry_run``, only report what would be freed."""
        return self.call(gc_ops.COLLECT_GARBAGE, dry_run=dry_run)
