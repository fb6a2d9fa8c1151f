"""Pages of a list operation: the request fields, the response, and the client's list.

A page token is opaque to callers: pass back the ``next_page_token`` of one page to get
the next. How the server makes one is ``core.keyset``'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

__all__ = ["MAX_TOKEN", "Page", "PageParams", "PagedList", "every_item"]

T = TypeVar("T")
R = TypeVar("R", bound=BaseModel)

# A token holds a few sort values; a bound keeps a forged one from costing anything.
MAX_TOKEN = 2000


class PageParams(BaseModel):
    """The request fields of a paginated list (a mixin: list it before ``Request``).

    An operation with another default page size redeclares ``limit``."""

    limit: int = Field(default=100, ge=1, le=1000, description="At most this many items.")
    page_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN,
        description="The `next_page_token` of the previous page; omit it for the first page.",
    )


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next_page_token`` is set when more items follow."""

    items: list[T]
    next_page_token: str | None = None


class PagedList(list[T]):
    """A list of items with the token of the page after them (``None`` when none follows),
    as MLflow's ``PagedList``: code that wants a list uses it as one."""

    def __init__(self, items: list[T] | tuple[T, ...] = (), next_page_token: str | None = None):
        super().__init__(items)
        self.next_page_token = next_page_token


def every_item(list_page: Callable[[Any, R], Page[T]], ctx: Any, req: R) -> list[T]:
    """Every item of a paginated service function, for a service that needs them all."""
    items: list[T] = []
    while True:
        page = list_page(ctx, req)
        items += page.items
        if page.next_page_token is None:
            return items
        req = req.model_copy(update={"page_token": page.next_page_token})
