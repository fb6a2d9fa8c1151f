"""The context of one operation: caller, transaction, permission checks and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.core.actions import ALL, Action
from modelwright.core.clock import utcnow
from modelwright.errors import PermissionDenied
from modelwright.store import schema

if TYPE_CHECKING:
    from modelwright.settings import Settings
    from modelwright.store.artifacts import ArtifactStore

__all__ = ["Caller", "Context", "StoreOpener", "utcnow"]


class StoreOpener(Protocol):
    """How services reach bytes: the platform's artifact store and datastores by URL."""

    @property
    def artifacts(self) -> ArtifactStore: ...

    def open(self, url: str) -> ArtifactStore: ...

    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True)
class Caller:
    """An authenticated principal."""

    name: str
    principal_id: int


@dataclass(frozen=True)
class _GrantView:
    workspace: str
    environment: str
    role: str
    actions: frozenset[str]


@dataclass
class Context:
    """Passed as the first argument to every service function; valid for one transaction."""

    session: Session
    caller: Caller
    # The platform's artifact store, opened on first use (most operations never need it).
    stores: StoreOpener | None = field(default=None, repr=False)
    # The environment the caller declares it acts in ("env" or "workspace/env"), if any:
    # reading production data needs a production one (``objects.service.check_isolation``).
    acting: str | None = None
    _grants: list[_GrantView] | None = field(default=None, repr=False)

    @property
    def artifacts(self) -> ArtifactStore:
        if self.stores is None:
            raise RuntimeError("this context has no artifact store")
        return self.stores.artifacts

    def open_store(self, url: str) -> ArtifactStore:
        """A content-addressed store rooted at a datastore's URL."""
        if self.stores is None:
            raise RuntimeError("this context has no artifact store")
        return self.stores.open(url)

    @property
    def settings(self) -> Settings:
        if self.stores is None:
            raise RuntimeError("this context has no platform settings")
        return self.stores.settings

    # -- authorisation ------------------------------------------------------------------
    def grants(self) -> list[_GrantView]:
        if self._grants is None:
            rows = self.session.execute(
                select(schema.Grant.workspace, schema.Grant.environment, schema.Role)
                .join(schema.Role, schema.Grant.role_id == schema.Role.id)
                .where(schema.Grant.principal_id == self.caller.principal_id)
            ).all()
            self._grants = [
                _GrantView(ws, env, role.name, frozenset(role.actions)) for ws, env, role in rows
            ]
        return self._grants

    def matching_grant(
        self, action: Action, workspace: str, environment: str = ALL
    ) -> _GrantView | None:
        """The first grant that allows ``action`` there. ``environment=ALL`` asks for all."""
        for g in self.grants():
            if (
                action.value in g.actions
                and g.workspace in (workspace, ALL)
                and g.environment in (environment, ALL)
            ):
                return g
        return None

    def allowed(self, action: Action, workspace: str, environment: str = ALL) -> bool:
        return self.matching_grant(action, workspace, environment) is not None

    def as_principal(self, caller: Caller) -> Context:
        """The same transaction, evaluating another principal's grants."""
        return Context(session=self.session, caller=caller, stores=self.stores, acting=self.acting)

    def require(self, action: Action, workspace: str, environment: str = ALL) -> None:
        if not self.allowed(action, workspace, environment):
            where = _where(workspace, environment)
            raise PermissionDenied(
                f"principal '{self.caller.name}' may not {action.value} {where}: "
                "no grant gives a role with that action there",
                details={
                    "principal": self.caller.name,
                    "action": action.value,
                    "workspace": workspace,
                    "environment": environment,
                },
            )

    def is_member(self, workspace: str) -> bool:
        """Any grant in the workspace lets a principal see its metadata."""
        return any(g.workspace in (workspace, ALL) for g in self.grants())

    def is_platform_admin(self) -> bool:
        return self.allowed(Action.ACCESS_MANAGE, ALL, ALL)

    def require_platform_admin(self, what: str) -> None:
        if not self.is_platform_admin():
            raise PermissionDenied(
                f"principal '{self.caller.name}' may not {what}: it needs access.manage in "
                "every workspace and environment (a platform admin grant)",
                details={"principal": self.caller.name, "action": Action.ACCESS_MANAGE.value},
            )

    # -- domain events ------------------------------------------------------------------
    def event(
        self,
        kind: str,
        *,
        workspace: str = "",
        environment: str = "",
        subject: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append a domain event in this transaction (``core.events``)."""
        from modelwright.core.events import append_event

        append_event(
            self.session,
            kind,
            at=utcnow(),
            workspace=workspace,
            environment=environment,
            subject=subject,
            principal=self.caller.name,
            data=data,
        )

    # -- audit --------------------------------------------------------------------------
    def audit(
        self,
        action: str,
        *,
        workspace: str = "",
        environment: str = "",
        target: str = "",
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Record a mutation in the same transaction, so there is no change without a record."""
        self.session.add(
            schema.AuditEvent(
                at=utcnow(),
                principal=self.caller.name,
                action=action,
                workspace=workspace,
                environment=environment,
                target=target,
                before=before,
                after=after,
            )
        )


def _where(workspace: str, environment: str) -> str:
    ws = "every workspace" if workspace == ALL else f"workspace '{workspace}'"
    env = "every environment" if environment == ALL else f"environment '{environment}'"
    return f"in {ws}, {env}"
