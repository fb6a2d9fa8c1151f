"""What a run read and what came of it, as a fragment its page loads after the rest."""

from __future__ import annotations

from starlette.responses import Response

from modelwright.api import tracking as tr_ops
from modelwright.errors import ModelwrightError
from modelwright.ui.views._base import Endpoint, Me, signed_in
from modelwright.ui.views._links import dataset_link, model_link

__all__ = ["ROUTES"]

# The run's own inputs and outputs; the impact follows its outputs further down.
_DEPTH = 2


@signed_in
async def run_lineage(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    run_id = me.request.path_params["run_id"]
    try:
        found = await me.call(
            tr_ops.LINEAGE, workspace=workspace, entity=f"run:{run_id}", depth=_DEPTH, impact=True
        )
    except ModelwrightError as exc:
        # A fragment: the page around it stays; the section says what went wrong.
        return me.render(
            "run_lineage.html", exc.status, workspace=workspace, error=exc, lineage=None
        )
    return me.render(
        "run_lineage.html",
        workspace=workspace,
        error=None,
        lineage=found,
        model_link=model_link,
        dataset_link=dataset_link,
    )


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/runs/{run_id}/lineage", run_lineage, ["GET"]),
]
