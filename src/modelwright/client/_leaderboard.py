"""Leaderboards in the client: with a holdout dataset, every version is loaded and scored
here, where the models run (a custom metric too); the platform ranks what it is sent and
moves the challenger alias."""

from __future__ import annotations

from typing import Any

from modelwright.api import registry as ops
from modelwright.client._data import DataMixin
from modelwright.client._registry import RegistryMixin
from modelwright.errors import InvalidInput
from modelwright.registry import models as rm

__all__ = ["LeaderboardMixin"]


class LeaderboardMixin(RegistryMixin, DataMixin):
    """Ranking a model's versions, a part of ``Client``."""

    # -- leaderboard --------------------------------------------------------------------------
    def leaderboard(
        self,
        name: str,
        metric: str,
        *,
        dataset: str | None = None,
        label: str | None = None,
        environment: str | None = None,
        workspace: str | None = None,
        higher_is_better: bool | None = None,
        set_challenger: bool = False,
    ) -> list[rm.LeaderboardEntry]:
        """Rank versions by the metric their runs logged or, with ``dataset``, by the metric
        computed anew for every version on that one dataset version (a fair comparison).
        ``set_challenger`` points the environment's ``challenger`` alias at the winner.

        ``metric`` is a built-in one (see ``registry.leaderboard.metric_help``) or your own
        as ``"package.module:function"``, imported and called here, where the models load;
        the platform only ranks the scores."""
        ws = self.resolve_workspace(workspace)
        env = self.resolve_environment(ws, environment)
        if dataset is None and not set_challenger:
            return self.call(
                ops.MODEL_LEADERBOARD,
                workspace=ws,
                name=name,
                metric=metric,
                environment=env,
                higher_is_better=higher_is_better,
            )
        scores = None
        if dataset is not None:
            from modelwright.registry.leaderboard import resolve_metric

            chosen = resolve_metric(metric)
            if higher_is_better is None:
                higher_is_better = chosen.higher_is_better
            scores = self._score_versions(ws, env, name, chosen, dataset=dataset, label=label)
        return self.call(
            ops.RANK_MODEL_VERSIONS,
            workspace=ws,
            name=name,
            metric=metric,
            environment=env,
            scores=scores,
            source=dataset or "",
            higher_is_better=higher_is_better,
            set_challenger=set_challenger,
        )

    def _score_versions(
        self, ws: str, env: str, name: str, metric: Any, *, dataset: str, label: str | None
    ) -> list[dict[str, Any]]:
        """Every version available in ``env`` loaded here and scored on ``dataset``."""
        # numpy/pandas/scikit-learn load only when a leaderboard re-evaluates
        import math

        import pandas as pd

        from modelwright.registry.leaderboard import score

        # Read as from the environment whose versions are ranked (a prod leaderboard may score
        # on prod data, a dev one never).
        with self.acting(f"{ws}/{env}"):
            frame = self.load_dataset(dataset, workspace=ws, environment=env, as_="dataframe")
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInput(f"dataset: {dataset} is not a table", details={"field": "dataset"})
        out = []
        for v in self.model_versions(name, workspace=ws):
            if env not in v.available_in:
                continue
            model = self.load_model(v.uri, workspace=ws)
            value = score(model, frame, [metric], label=label, dataset=dataset, uri=v.uri)
            found = value[metric.name]
            out.append({"version": v.version, "value": None if math.isnan(found) else found})
        return out
