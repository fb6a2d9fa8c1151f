"""What every part of the ``Client`` stands on: the transport, one typed call per operation,
and the default workspace and environment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from modelwright.api import operations as base
from modelwright.api.operation import Operation
from modelwright.client._transport import Transport
from modelwright.core.pages import Page, PagedList
from modelwright.errors import AlreadyExists, Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.settings import client_settings
from modelwright.setup.spec import dotted
from modelwright.workspaces.models import WorkspaceInfo

__all__ = ["ClientBase"]

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")
Item = TypeVar("Item")


class ClientBase:
    """The transport and what every group of client methods calls through it."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def act_in(self, environment: str | None) -> None:
        """Act in ``environment`` (``"prod"`` or ``"workspace/prod"``; ``None``: in none) from
        now on: reading production data needs a production one."""
        self.transport.acting = environment or None

    @contextmanager
    def acting(self, environment: str | None) -> Iterator[None]:
        """Act in ``environment`` for the block, then as before: work done on behalf of an
        environment (a batch job, a leaderboard's holdout) reads as from that environment."""
        declared = self.transport.acting
        self.act_in(environment)
        try:
            yield
        finally:
            self.act_in(declared)

    def call(self, op: Operation[Req, Resp], **fields: Any) -> Resp:
        """Validate ``fields`` as the operation's request (naming any bad field) and run it.

        A write that may carry an idempotency key gets a new one unless ``fields`` give it:
        the transport may then send it again after a timeout without applying it twice.
        """
        if op.keyed and fields.get("idempotency_key") is None:
            fields["idempotency_key"] = uuid.uuid4().hex
        try:
            req = op.request.model_validate({k: v for k, v in fields.items() if v is not None})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = dotted(tuple(err["loc"])) or "request"
            raise InvalidInput(
                f"{where}: {str(err['msg']).removeprefix('Value error, ')}",
                details={"field": where},
            ) from None
        return self.transport.call(op, req)

    def call_pages(
        self,
        op: Operation[Req, Page[Item]],
        *,
        page_token: str | None = None,
        limit: int | None = None,
        size: str = "limit",
        follow: bool = True,
        **fields: Any,
    ) -> PagedList[Item]:
        """One page when ``page_token`` or ``limit`` is given (``size`` names the request's
        page-size field) or for a list that was always bounded (``follow=False``); otherwise
        every item, following the pages."""
        if page_token is not None or limit is not None or not follow:
            page = self.call(op, page_token=page_token, **{size: limit}, **fields)
            return PagedList(page.items, page.next_page_token)
        items: list[Item] = []
        token: str | None = None
        while True:
            page = self.call(op, page_token=token, **fields)
            items += page.items
            if page.next_page_token is None:
                return PagedList(items)
            token = page.next_page_token

    def resolve_workspace(self, workspace: str | None = None) -> str:
        """The workspace to use: the argument, ``MODELWRIGHT_WORKSPACE``, the only workspace
        the caller can see, or (none yet) the platform's ``default`` workspace, which a
        platform admin gets made on first use."""
        if workspace:
            return workspace
        if env := client_settings().workspace:
            return env
        names = [w.name for w in self.call_pages(base.LIST_WORKSPACES)]
        if len(names) == 1:
            return names[0]
        if not names:
            # A first-time user gets a workspace that works out of the box, where the
            # platform makes one (see ensure_default_workspace); several processes starting
            # together on a fresh platform may race to make it: the loser asks again.
            try:
                return self.ensure_default_workspace().name
            except (NotFound, PermissionDenied):
                pass  # none for this caller: say what to do instead
        raise InvalidInput(
            "workspace: "
            + (
                "no workspace is visible to you"
                if not names
                else f"several workspaces ({', '.join(names)})"
            )
            + "; pass workspace=... or set MODELWRIGHT_WORKSPACE",
            details={"field": "workspace"},
        )

    def ensure_default_workspace(self) -> WorkspaceInfo:
        """The platform's ``default`` workspace, made if you see no workspace yet and are a
        platform admin (dev → staging → prod, a datastore each where the platform decides)."""
        try:
            return self.call(base.ENSURE_DEFAULT_WORKSPACE)
        except (AlreadyExists, Conflict):
            # Another process made it at the same moment: now it is there.
            return self.call(base.ENSURE_DEFAULT_WORKSPACE)

    def resolve_environment(self, workspace: str, environment: str | None = None) -> str:
        if environment:
            return environment
        if env := client_settings().environment:
            return env
        return self.call(base.GET_WORKSPACE, workspace=workspace).environments[0].name
