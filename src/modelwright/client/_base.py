"""What every part of the ``Client`` stands on: the transport, one typed call per operation,
and the default workspace and environment."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from modelwright.api import operations as base
from modelwright.api.operation import Operation
from modelwright.client._transport import Transport
from modelwright.core.pages import Page, PagedList
from modelwright.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from modelwright.settings import client_settings
from modelwright.setup.spec import dotted

__all__ = ["ClientBase"]

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")
Item = TypeVar("Item")


class ClientBase:
    """The transport and what every group of client methods calls through it."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

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
        the caller can see, or (embedded, with none yet) a new ``default`` workspace."""
        if workspace:
            return workspace
        if env := client_settings().workspace:
            return env
        names = [w.name for w in self.call_pages(base.LIST_WORKSPACES)]
        if len(names) == 1:
            return names[0]
        platform = self.transport.local_platform
        if not names and platform is not None:
            # A first-time embedded user gets a workspace that works out of the box: the
            # usual promotion path, each environment with a datastore under the home.
            home = platform.settings.home.resolve()
            envs = [
                {
                    "name": env,
                    "production": env == "prod",
                    "datastores": [
                        {
                            "name": "local",
                            "url": str(home / "data" / "default" / env),
                            "classification": "production" if env == "prod" else "non-production",
                        }
                    ],
                }
                for env in ("dev", "staging", "prod")
            ]
            try:
                return self.call(base.CREATE_WORKSPACE, name="default", environments=envs).name
            except (AlreadyExists, Conflict) as exc:
                # Another process made it at the same moment (several scripts starting
                # together on a fresh platform): use that one.
                try:
                    return self.call(base.GET_WORKSPACE, workspace="default").name
                except NotFound:
                    raise exc from None
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

    def resolve_environment(self, workspace: str, environment: str | None = None) -> str:
        if environment:
            return environment
        if env := client_settings().environment:
            return env
        return self.call(base.GET_WORKSPACE, workspace=workspace).environments[0].name
