"""Operations of the model registry."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.registry import models as rm

V1 = "/api/v1"
_MODEL = f"{V1}/workspaces/{{workspace}}/models/{{name}}"

REGISTER_MODEL_VERSION = Operation(
    "register_model_version",
    "POST",
    f"{_MODEL}/versions",
    rm.RegisterVersion,
    rm.ModelVersionInfo,
    "modelwright.registry.service:register_version",
    "Register an uploaded model artifact as the next version (the model is created if new)",
    "registry",
    status=201,
)
LIST_MODELS = Operation(
    "list_models",
    "GET",
    f"{V1}/workspaces/{{workspace}}/models",
    rm.ListModels,
    Page[rm.ModelInfo],
    "modelwright.registry.service:list_models",
    "List a workspace's registered models with their aliases",
    "registry",
)
GET_MODEL = Operation(
    "get_model",
    "GET",
    _MODEL,
    rm.ModelRef,
    rm.ModelDetail,
    "modelwright.registry.service:get_model",
    "A registered model with its readable versions",
    "registry",
)
UPDATE_MODEL = Operation(
    "update_model",
    "PATCH",
    _MODEL,
    rm.UpdateModel,
    rm.ModelInfo,
    "modelwright.registry.service:update_model",
    "Set a model's description and tags",
    "registry",
)
LIST_MODEL_VERSIONS = Operation(
    "list_model_versions",
    "GET",
    f"{_MODEL}/versions",
    rm.ListVersions,
    Page[rm.ModelVersionInfo],
    "modelwright.registry.service:list_versions",
    "The versions of a model available in environments the caller may read",
    "registry",
)
GET_MODEL_VERSION = Operation(
    "get_model_version",
    "GET",
    f"{_MODEL}/versions/{{version}}",
    rm.VersionRef,
    rm.ModelVersionInfo,
    "modelwright.registry.service:get_version",
    "One version: artifact digest and files, flavor, signature, requirements, lineage",
    "registry",
)
DELETE_MODEL_VERSION = Operation(
    "delete_model_version",
    "DELETE",
    f"{_MODEL}/versions/{{version}}",
    rm.VersionRef,
    rm.ModelVersionInfo,
    "modelwright.registry.deletion:delete_version",
    "Delete a version, unless an alias, an endpoint, a rollout or an open promotion uses it; "
    "its files are freed by garbage collection",
    "registry",
)
UPDATE_MODEL_VERSION = Operation(
    "update_model_version",
    "PATCH",
    f"{_MODEL}/versions/{{version}}",
    rm.UpdateVersion,
    rm.ModelVersionInfo,
    "modelwright.registry.service:update_version",
    "Set a version's description and tags",
    "registry",
)
RESOLVE_MODEL_ALIAS = Operation(
    "resolve_model_alias",
    "GET",
    f"{_MODEL}/aliases/{{alias}}",
    rm.AliasRef,
    rm.ModelVersionInfo,
    "modelwright.registry.service:resolve_alias",
    "The version an alias points at in an environment",
    "registry",
)
SET_MODEL_ALIAS = Operation(
    "set_model_alias",
    "PUT",
    f"{_MODEL}/aliases/{{alias}}",
    rm.SetAlias,
    rm.ModelVersionInfo,
    "modelwright.registry.service:set_alias",
    "Point an alias (champion, challenger, ...) of an environment at a version",
    "registry",
)
DELETE_MODEL_ALIAS = Operation(
    "delete_model_alias",
    "DELETE",
    f"{_MODEL}/aliases/{{alias}}",
    rm.DeleteAlias,
    rm.AliasEventInfo,
    "modelwright.registry.service:delete_alias",
    "Remove an alias from an environment",
    "registry",
)
MODEL_ALIAS_HISTORY = Operation(
    "model_alias_history",
    "GET",
    f"{_MODEL}/alias-history",
    rm.AliasHistoryRequest,
    Page[rm.AliasEventInfo],
    "modelwright.registry.service:alias_history",
    "Every move of the model's aliases: who pointed which alias at which version, when",
    "registry",
)
MODEL_LEADERBOARD = Operation(
    "model_leaderboard",
    "GET",
    f"{_MODEL}/leaderboard",
    rm.LeaderboardRequest,
    list[rm.LeaderboardEntry],
    "modelwright.registry.ranking:leaderboard",
    "Versions ranked by a metric their runs logged",
    "registry",
)
RANK_MODEL_VERSIONS = Operation(
    "rank_model_versions",
    "POST",
    f"{_MODEL}/leaderboard/rank",
    rm.RankVersions,
    list[rm.LeaderboardEntry],
    "modelwright.registry.ranking:rank_versions",
    "Rank one environment's versions by given scores (or logged values); optionally move "
    "its challenger alias to the winner in the same transaction",
    "registry",
    idempotent=True,
)

USE_MODEL_VERSION = Operation(
    "use_model_version",
    "POST",
    f"{_MODEL}/versions/{{version}}/uses",
    rm.UseVersion,
    rm.ModelVersionInfo,
    "modelwright.registry.service:use_version",
    "Record that a run used a version (an input lineage edge: version → run)",
    "registry",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
