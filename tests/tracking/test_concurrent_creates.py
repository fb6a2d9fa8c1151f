"""Creating what does not exist yet, from many processes at once, is not an error: eight
processes starting their first run on a fresh platform all succeed, and there is one
``default`` workspace and one experiment."""

from __future__ import annotations

import multiprocessing
from typing import Any

from sqlalchemy import func, select

from modelwright.core.platform import Platform
from modelwright.settings import Settings
from modelwright.store import schema

PROCESSES = 8


def _first_run(settings: dict[str, Any], together: Any, answers: Any) -> None:
    """In a fresh process: find (or make) the default workspace, then start a run in a new
    experiment, each step at the same moment as the other processes."""
    from modelwright.client import Client, LocalTransport

    try:
        client = Client(LocalTransport(Platform(Settings(**settings))))
        together.wait()
        workspace = client.resolve_workspace()
        together.wait()
        run = client.start_run("churn", workspace=workspace, snapshot=False)
        run.end()
        answers.put(("ok", workspace))
    except Exception as exc:
        together.abort()  # the others do not wait for this one
        answers.put(("error", f"{type(exc).__name__}: {exc}"))


def test_eight_processes_starting_their_first_run_at_once_all_succeed(
    settings: Settings, platform: Platform
) -> None:
    spawn = multiprocessing.get_context("spawn")
    together = spawn.Barrier(PROCESSES, timeout=120)
    answers = spawn.Queue()
    processes = [
        spawn.Process(
            target=_first_run, args=(settings.model_dump(), together, answers), daemon=True
        )
        for _ in range(PROCESSES)
    ]
    for p in processes:
        p.start()
    results = [answers.get(timeout=300) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    assert results == [("ok", "default")] * PROCESSES
    with platform.engine.connect() as conn:
        count = conn.scalar
        assert count(select(func.count()).select_from(schema.Workspace)) == 1
        assert count(select(func.count()).select_from(schema.Experiment)) == 1
        finished = select(func.count()).where(schema.Run.status == "finished")
        assert count(finished.select_from(schema.Run)) == PROCESSES
