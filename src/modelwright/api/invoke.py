"""Running an operation for a caller: what every face (the REST server, the web UI) does
between reading a request and rendering its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from modelwright.errors import InvalidInput
from modelwright.setup.spec import dotted

if TYPE_CHECKING:
    from modelwright.api.operation import Operation
    from modelwright.core.context import Caller
    from modelwright.core.platform import Platform

__all__ = ["invalid_input", "parse_request", "run_operation"]


def parse_request(op: Operation[Any, Any], fields: dict[str, Any]) -> BaseModel:
    """``fields`` (path, query and body together) as the operation's request model."""
    try:
        req: BaseModel = op.request.model_validate(fields)
    except ValidationError as exc:
        raise invalid_input(exc) from None
    return req


def invalid_input(exc: ValidationError) -> InvalidInput:
    """The first problem as ``field: message``; all of them in ``details``."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    first = errors[0]
    where = dotted(tuple(first["loc"])) or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(
        f"{where}: {str(first['msg']).removeprefix('Value error, ')}{more}",
        details={
            "field": where,
            "problems": [
                {
                    "field": dotted(tuple(e["loc"])),
                    "message": str(e["msg"]).removeprefix("Value error, "),
                }
                for e in errors
            ],
        },
    )


def run_operation(
    platform: Platform,
    caller: Caller,
    op: Operation[Any, Any],
    req: BaseModel,
    acting: str | None = None,
) -> Any:
    """The operation's service function in one unit of work as ``caller``: the same
    permission checks and transaction whichever face asked."""
    with platform.unit(caller, acting=acting, reading_only=op.reads_only) as ctx:
        return op.run(ctx, req)
