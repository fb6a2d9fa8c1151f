"""The audit trail and who may do what where (roles × environments)."""

from __future__ import annotations

import re
from collections import defaultdict

from starlette.responses import Response

from modelwright.api import operations as ops
from modelwright.errors import InvalidInput
from modelwright.ui.views._base import Endpoint, Me, signed_in

__all__ = ["ROUTES"]

_ZONED = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_FILTERS = ("principal", "action", "workspace", "since", "until", "limit", "page_token")


@signed_in
async def audit(me: Me) -> Response:
    q = me.request.query_params
    view = {k: q.get(k, "") for k in _FILTERS}
    fields: dict[str, str] = {k: v for k, v in view.items() if v}
    for bound in ("since", "until"):
        # The form's datetime-local has no zone: its times are UTC, as the labels say.
        if bound in fields and not _ZONED.search(fields[bound]):
            fields[bound] += "Z"
    try:
        page = await me.call(ops.LIST_AUDIT_EVENTS, **fields)
    except InvalidInput as exc:
        return me.render("audit.html", 400, view=view, events=[], next_token=None, error=exc)
    return me.render(
        "audit.html", view=view, events=page.items, next_token=page.next_page_token, error=None
    )


@signed_in
async def access(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    info = await me.call(ops.GET_WORKSPACE, workspace=workspace)
    grants = (await me.call(ops.LIST_GRANTS, workspace=workspace, limit=1000)).items
    roles = {r.name: r for r in (await me.call(ops.LIST_ROLES, limit=1000)).items}
    environments = [e.name for e in info.environments]
    # principal → environment → roles; a grant on "*" holds in every environment.
    table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for g in grants:
        for env in environments if g.environment == "*" else [g.environment]:
            table[g.principal][env].append(g.role)
    return me.render(
        "access.html",
        workspace=workspace,
        environments=environments,
        table={p: dict(envs) for p, envs in sorted(table.items())},
        roles=roles,
    )


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/audit", audit, ["GET"]),
    ("/w/{workspace}/access", access, ["GET"]),
]
