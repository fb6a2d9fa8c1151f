"""Two ``modelwright serve`` routers on one endpoint: the platform's serving statistics add up
to the requests sent through both, including those counted just before a router stopped."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import httpx
from tests.serving.test_serve import ROW, Serve, _ready, churn_home

from modelwright.client import Client

__all__ = ["churn_home"]  # the fixture, used here too


def test_two_serve_routers_add_up_to_the_requests_sent(churn_home: tuple[Client, Path]) -> None:
    client, home = churn_home
    routers = [Serve(home, "--stats-interval", "0.2") for _ in range(2)]
    sent = {0: 0, 1: 0}
    try:
        for router in routers:
            router.wait(_ready("churn/blue"))
        for i, router in enumerate(routers):
            with httpx.Client(base_url=router.url, timeout=30) as http:
                for n in range(25 + 10 * i):
                    body = ROW if n % 5 else {"nonsense": 1}  # every fifth one is a 400
                    r = http.post("/endpoints/ml/dev/churn/invocations", json=body)
                    assert r.status_code == (200 if n % 5 else 400), r.text
                    sent[i] += 1
        # Counted within a flush interval by the running routers...
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stats = client.serving_stats("churn", since=timedelta(minutes=5), workspace="ml")
            if stats.total.requests >= sent[0] + sent[1]:
                break
            time.sleep(0.2)
    finally:
        codes = [router.stop() for router in routers]
    assert codes == [0, 0], [r.output() for r in routers]
    stats = client.serving_stats("churn", since=timedelta(minutes=5), workspace="ml")
    [blue] = stats.deployments
    assert blue.requests == sent[0] + sent[1] == 60
    assert (blue.errors.client, blue.errors.server, blue.errors.shed) == (12, 0, 0)
    assert blue.routers == 2 and blue.p50_ms is not None
