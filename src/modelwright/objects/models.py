"""Where an object lives: the platform's artifact store, or one datastore of an environment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, model_validator

from modelwright.core.names import check_name

__all__ = ["ObjectScope"]


class ObjectScope(BaseModel):
    """``artifacts`` (the platform's store) or ``datastore`` (workspace/environment/datastore)."""

    kind: Literal["artifacts", "datastore"] = "artifacts"
    workspace: str = ""
    environment: str = ""
    datastore: str = ""

    @model_validator(mode="after")
    def _names(self) -> ObjectScope:
        if self.kind == "datastore":
            check_name(self.workspace, "workspace")
            check_name(self.environment, "environment")
            check_name(self.datastore, "datastore")
        return self

    @classmethod
    def artifacts(cls) -> ObjectScope:
        return cls(kind="artifacts")

    @classmethod
    def in_datastore(cls, workspace: str, environment: str, datastore: str) -> ObjectScope:
        return cls(
            kind="datastore", workspace=workspace, environment=environment, datastore=datastore
        )

    def describe(self) -> str:
        if self.kind == "artifacts":
            return "the artifact store"
        return f"datastore {self.workspace}/{self.environment}/{self.datastore}"
