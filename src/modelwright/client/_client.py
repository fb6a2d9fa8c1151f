"""The ``Client``: one typed method per operation, whatever the transport."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from modelwright.access import models as access
from modelwright.api import operations as ops
from modelwright.audit import models as audit
from modelwright.client._alerts import AlertsMixin
from modelwright.client._data import DataMixin
from modelwright.client._deletion import DeletionMixin
from modelwright.client._endpoints import EndpointsMixin
from modelwright.client._jobs import JobsMixin
from modelwright.client._labels import LabelsMixin
from modelwright.client._leaderboard import LeaderboardMixin
from modelwright.client._monitors import MonitorsMixin
from modelwright.client._packaging import PackagingMixin
from modelwright.client._pipelines import PipelinesMixin
from modelwright.client._promotions import PromotionsMixin
from modelwright.client._registry import RegistryMixin
from modelwright.client._retrain import RetrainMixin
from modelwright.client._rollouts import RolloutsMixin
from modelwright.client._tracking import TrackingMixin
from modelwright.client._transport import HttpTransport
from modelwright.core.actions import Action
from modelwright.core.pages import PagedList
from modelwright.settings import Settings, client_settings
from modelwright.setup import models as setup
from modelwright.setup.spec import PlatformSpec
from modelwright.workspaces import models as ws

__all__ = ["Client", "connect"]


def connect(
    target: str | Path | None = None,
    *,
    token: str | None = None,
    principal: str | None = None,
    environment: str | None = None,
) -> Client:
    """Connect to a platform.

    ``target`` is a server URL (``http://host:8080``) or the home directory of an embedded
    platform (default: ``MODELWRIGHT_HOME`` or ``./.modelwright``). Embedded, the client acts
    as the local admin unless a ``token`` or ``principal`` says otherwise.

    ``environment`` (default: ``MODELWRIGHT_ENVIRONMENT``) is the environment the client acts
    in, ``"prod"`` or ``"workspace/prod"``: production data is readable only from a production
    one, so a notebook working in dev cannot pull production data into dev by accident.
    """
    acting = environment or client_settings().environment
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        return Client(HttpTransport(target, token=token, acting=acting))
    # The embedded platform's services and database load only here, never for a server URL.
    from modelwright.client._local import LocalTransport
    from modelwright.core.platform import Platform

    settings = Settings() if target is None else Settings(home=Path(target))
    return Client(
        LocalTransport(Platform(settings), token=token, principal=principal, acting=acting)
    )


class Client(
    # Each group of methods subclasses the groups it calls into (ClientBase at the root).
    DeletionMixin,
    AlertsMixin,
    LabelsMixin,
    RetrainMixin,
    MonitorsMixin,
    PromotionsMixin,
    RolloutsMixin,
    LeaderboardMixin,
    PackagingMixin,
    RegistryMixin,
    DataMixin,
    TrackingMixin,
    PipelinesMixin,
    EndpointsMixin,
    JobsMixin,
):
    """One method per operation, whatever the transport (in process or HTTP)."""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    # -- workspaces ---------------------------------------------------------------------------
    def list_workspaces(
        self, *, page_token: str | None = None, limit: int | None = None
    ) -> PagedList[ws.WorkspaceInfo]:
        """Every workspace you have a grant in, or one page of them."""
        return self.call_pages(ops.LIST_WORKSPACES, page_token=page_token, limit=limit)

    def get_workspace(self, name: str) -> ws.WorkspaceInfo:
        return self.call(ops.GET_WORKSPACE, workspace=name)

    def create_workspace(
        self,
        name: str,
        *,
        description: str = "",
        environments: list[ws.EnvironmentSpec] | list[dict[str, Any]] | None = None,
    ) -> ws.WorkspaceInfo:
        return self.call(
            ops.CREATE_WORKSPACE, name=name, description=description, environments=environments
        )

    def delete_workspace(self, name: str) -> ws.WorkspaceInfo:
        return self.call(ops.DELETE_WORKSPACE, workspace=name)

    def create_environment(
        self, workspace: str, name: str, *, production: bool = False, description: str = ""
    ) -> ws.WorkspaceInfo:
        return self.call(
            ops.CREATE_ENVIRONMENT,
            workspace=workspace,
            name=name,
            production=production,
            description=description,
        )

    def create_datastore(
        self,
        workspace: str,
        environment: str,
        name: str,
        url: str,
        *,
        classification: ws.Classification = "non-production",
        region: str = "",
    ) -> ws.DatastoreInfo:
        return self.call(
            ops.CREATE_DATASTORE,
            workspace=workspace,
            environment=environment,
            name=name,
            url=url,
            classification=classification,
            region=region,
        )

    def delete_datastore(self, workspace: str, environment: str, name: str) -> ws.DatastoreInfo:
        return self.call(
            ops.DELETE_DATASTORE, workspace=workspace, environment=environment, datastore=name
        )

    # -- access -------------------------------------------------------------------------------
    def whoami(self) -> access.WhoAmI:
        return self.call(ops.WHOAMI)

    def list_principals(
        self, *, page_token: str | None = None, limit: int | None = None
    ) -> PagedList[access.PrincipalInfo]:
        """Every principal you may see (by name), or one page of them."""
        return self.call_pages(ops.LIST_PRINCIPALS, page_token=page_token, limit=limit)

    def create_principal(
        self,
        name: str,
        *,
        kind: access.PrincipalKind = "user",
        display_name: str = "",
        email: str = "",
    ) -> access.PrincipalInfo:
        return self.call(
            ops.CREATE_PRINCIPAL, name=name, kind=kind, display_name=display_name, email=email
        )

    def delete_principal(self, name: str) -> access.PrincipalInfo:
        return self.call(ops.DELETE_PRINCIPAL, principal=name)

    def list_roles(
        self, *, page_token: str | None = None, limit: int | None = None
    ) -> PagedList[access.RoleInfo]:
        """Every role (built-in ones first), or one page of them."""
        return self.call_pages(ops.LIST_ROLES, page_token=page_token, limit=limit)

    def create_role(
        self, name: str, actions: list[Action] | list[str], *, description: str = ""
    ) -> access.RoleInfo:
        return self.call(ops.CREATE_ROLE, name=name, actions=actions, description=description)

    def list_grants(
        self,
        *,
        principal: str | None = None,
        workspace: str | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[access.GrantInfo]:
        """Every grant you may see, or one page of them."""
        return self.call_pages(
            ops.LIST_GRANTS,
            page_token=page_token,
            limit=limit,
            principal=principal,
            workspace=workspace,
        )

    def grant(
        self, principal: str, role: str, workspace: str, environment: str = "*"
    ) -> access.GrantInfo:
        return self.call(
            ops.CREATE_GRANT,
            principal=principal,
            role=role,
            workspace=workspace,
            environment=environment,
        )

    def revoke_grant(
        self, principal: str, role: str, workspace: str, environment: str = "*"
    ) -> access.GrantInfo:
        return self.call(
            ops.DELETE_GRANT,
            principal=principal,
            role=role,
            workspace=workspace,
            environment=environment,
        )

    def create_token(
        self, *, principal: str | None = None, name: str = "", expires_at: datetime | None = None
    ) -> access.TokenCreated:
        return self.call(ops.CREATE_TOKEN, principal=principal, name=name, expires_at=expires_at)

    def list_tokens(
        self,
        *,
        principal: str | None = None,
        page_token: str | None = None,
        limit: int | None = None,
    ) -> PagedList[access.TokenInfo]:
        """Every token you may see (never their secrets), or one page of them."""
        return self.call_pages(
            ops.LIST_TOKENS, page_token=page_token, limit=limit, principal=principal
        )

    def revoke_token(self, token_id: int) -> access.TokenInfo:
        return self.call(ops.REVOKE_TOKEN, token_id=token_id)

    def check_access(
        self,
        action: Action | str,
        workspace: str,
        environment: str = "*",
        *,
        principal: str | None = None,
    ) -> access.AccessDecision:
        return self.call(
            ops.CHECK_ACCESS,
            action=action,
            workspace=workspace,
            environment=environment,
            principal=principal,
        )

    # -- audit --------------------------------------------------------------------------------
    def audit_events(
        self,
        *,
        principal: str | None = None,
        action: str | None = None,
        workspace: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> PagedList[audit.AuditEventInfo]:
        """Audit events newest first: one page of at most ``limit``; pass its
        ``next_page_token`` as ``page_token`` for the next."""
        return self.call_pages(
            ops.LIST_AUDIT_EVENTS,
            page_token=page_token,
            principal=principal,
            action=action,
            workspace=workspace,
            since=since,
            until=until,
            limit=limit,
        )

    # -- setup as code ------------------------------------------------------------------------
    def apply(
        self, spec: PlatformSpec | dict[str, Any], *, dry_run: bool = False, prune: bool = False
    ) -> setup.Plan:
        return self.call(ops.APPLY_PLATFORM, spec=spec, dry_run=dry_run, prune=prune)

    def export(self) -> PlatformSpec:
        return self.call(ops.EXPORT_PLATFORM)
