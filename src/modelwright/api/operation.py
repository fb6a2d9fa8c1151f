"""The ``Operation`` declaration."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from pydantic import BaseModel, TypeAdapter

if TYPE_CHECKING:
    from modelwright.core.context import Context

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, eq=False)
class Operation(Generic[Req, Resp]):
    """An operation of the platform as both faces see it.

    Fields of ``request`` named in ``path`` travel in the URL; for GET and DELETE the rest
    travel as query parameters, otherwise as the JSON body.

    ``handler`` names the service function as ``"package.module:function"`` and is imported
    on the first ``run``: declaring every operation imports its request and response models
    only, neither a service module nor SQLAlchemy, so a client of a remote platform stays
    light (``tests/core/test_operations.py``, ``tests/client/test_import_budget.py``). A test
    resolves every handler and checks it takes the operation's request type.
    """

    name: str
    method: Method
    path: str
    request: type[Req]
    response: type[Resp]  # a type or a generic alias such as list[WorkspaceInfo]
    handler: str
    summary: str
    tag: str
    status: int = 200
    idempotent: bool = False
    # Only reads, whatever its method (a lookup with a large body is a POST): on SQLite its
    # transaction then takes no write lock that writers would queue behind.
    reads_only: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))

    @cached_property
    def handler_function(self) -> Callable[[Context, Req], Resp]:
        module, _, name = self.handler.partition(":")
        return cast(
            "Callable[[Context, Req], Resp]", getattr(importlib.import_module(module), name)
        )

    def run(self, ctx: Context, req: Req) -> Resp:
        """Run the service function in ``ctx`` (the caller's unit of work); once per
        idempotency key."""
        if ctx.acting and (self.method == "GET" or self.reads_only):
            # A misspelt acting environment is named at its first use rather than read as
            # "nothing there". Writes name their environment themselves (and one may make
            # the environment the caller is about to act in).
            from modelwright.core.lookup import check_acting

            check_acting(ctx, ctx.acting, getattr(req, "workspace", None))
        key = getattr(req, "idempotency_key", None)
        if key is None:
            return self.handler_function(ctx, req)
        from modelwright.core.idempotency import apply_once

        return apply_once(
            ctx,
            key,
            operation=self.name,
            target=self.url_path(req),
            apply=lambda: self.handler_function(ctx, req),
            answer=self.response_adapter,
        )

    def may_resend(self, req: Req) -> bool:
        """Whether sending ``req`` again cannot apply it twice (see the class's notes)."""
        return (
            self.method == "GET"
            or self.idempotent
            or getattr(req, "idempotency_key", None) is not None
        )

    @property
    def keyed(self) -> bool:
        """Whether requests of this operation may carry an idempotency key."""
        return "idempotency_key" in self.request.model_fields

    @property
    def has_body(self) -> bool:
        return self.method not in ("GET", "DELETE")

    @cached_property
    def response_adapter(self) -> TypeAdapter[Resp]:
        return TypeAdapter(self.response)

    def url_path(self, req: Req) -> str:
        from urllib.parse import quote

        values = {p: quote(str(getattr(req, p)), safe="") for p in self.path_params}
        return self.path.format(**values)

    def payload(self, req: Req) -> dict[str, Any]:
        """The non-path fields, as JSON-ready values (unset fields left to the server's defaults)."""
        return req.model_dump(
            mode="json", exclude=set(self.path_params), exclude_unset=True, by_alias=True
        )
