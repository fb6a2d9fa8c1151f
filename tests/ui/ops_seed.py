"""State for the endpoint, rollout, promotion and monitor pages, made as the services' own
tests make it: versions of a model, an endpoint serving one, routers' flushes of counts, and
a worker's pass over what waits (a server's worker would do the same)."""

from __future__ import annotations

import bisect
import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from playwright.sync_api import Page

from modelwright.client import Client
from modelwright.core.platform import Platform
from modelwright.endpoints.stats_models import (
    BUCKETS,
    LATENCY_BOUNDS_MS,
    RecordServingStats,
    StatsRow,
)
from modelwright.workflows import Worker

DEV = {"workspace": "ml", "environment": "dev"}
_SEQ = itertools.count(1)


def train_churn(c: Client, versions: int = 2, *, acc: float = 0.9) -> None:
    """``versions`` versions of model churn in ml/dev, each from a run that logged ``acc``."""
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame({"tenure": np.linspace(-1, 1, 40), "calls": np.arange(40) % 5})
    y = (x["tenure"] > 0).astype(int).to_numpy()
    for i in range(versions):
        with c.start_run("churn", **DEV, name=f"churn-{i}", snapshot=False) as run:
            run.log_metric("acc", acc)
            run.log_model(LogisticRegression(C=1.0 + i).fit(x, y), "churn", input_example=x[:3])


def served(c: Client, deployment: str, ok: int, server: int = 0, ms: float = 5.0) -> None:
    """A router's flush for the requests it just answered on endpoint churn (ending now)."""
    buckets = [0] * BUCKETS
    buckets[bisect.bisect_left(LATENCY_BOUNDS_MS, ms)] = ok + server
    end = datetime.now(UTC)
    c.record_serving_stats(
        RecordServingStats(
            **DEV,
            router="router-a",
            seq=next(_SEQ),
            started_at=end - timedelta(seconds=1),
            ended_at=end,
            rows=[
                StatsRow(
                    endpoint="churn",
                    deployment=deployment,
                    requests=ok + server,
                    server_errors=server,
                    latency_sum_ms=ms * (ok + server),
                    latency_buckets=buckets,
                )
            ],
        )
    )


def work(platform: Platform) -> None:
    Worker(platform).run_once()


def problems_of(page: Page) -> list[str]:
    """What ``watched`` fails a test on (console errors, failed requests, error statuses), as a
    list the test checks itself: for a test where one of them is expected."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"{r.url}: {r.failure}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def csrf_of(html: str) -> str:
    return html.split('name="csrf" value="')[1].split('"', maxsplit=1)[0]
