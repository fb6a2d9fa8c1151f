"""The promotion pages in Chromium: the queue, a promotion's gates with their evidence and
the four-eyes rule seen at work (its requester is refused, another approver approves); over
HTTP, a viewer's and a CSRF-less approve or reject refused with nothing changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from tests.ui.conftest import Seeded, sign_in, unlabelled_controls
from tests.ui.ops_seed import csrf_of, problems_of, work
from tests.ui.test_ui_http import _signed_in

import modelwright
from modelwright.client import Client
from modelwright.core.platform import Platform

pytest.importorskip("sklearn")

TEAM = {"workspace": "team", "environment": "dev"}


@dataclass
class Queue:
    seeded: Seeded
    promotion: int
    alice: str
    carol: str
    client: Client
    platform: Platform


@pytest.fixture
def queue(
    seeded: Seeded,
    local_client: Client,
    platform: Platform,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Queue:
    """Workspace team: alice (a scientist, and an approver in staging) asked to promote her
    churn v1 to staging, where a metric gate passed and one approval is awaited; carol
    approves in staging; vera views."""
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(tmp_path / "client-cache"))
    c = local_client
    c.apply(
        {
            "principals": [{"name": n} for n in ("alice", "carol", "vera")],
            "workspaces": [
                {
                    "name": "team",
                    "environments": [
                        {"name": "dev"},
                        {
                            "name": "staging",
                            "promotion": {
                                "gates": [
                                    {"kind": "metric", "require": ["acc >= 0.8"]},
                                    {"kind": "approval", "approvals": 1},
                                ]
                            },
                        },
                    ],
                    "grants": [
                        {"principal": "alice", "role": "data-scientist"},
                        {"principal": "alice", "role": "approver", "environments": ["staging"]},
                        {"principal": "carol", "role": "approver", "environments": ["staging"]},
                        {"principal": "vera", "role": "viewer"},
                    ],
                }
            ],
        }
    )
    alice = c.create_token(principal="alice", name="ui-alice").secret
    carol = c.create_token(principal="carol", name="ui-carol").secret
    with modelwright.connect(seeded.url, token=alice) as as_alice:
        import pandas as pd

        x = pd.DataFrame({"tenure": [0.1, -0.2, 0.3, -0.4], "calls": [1, 2, 3, 4]})
        with as_alice.start_run("churn", **TEAM, snapshot=False) as run:
            run.log_metric("acc", 0.91)
            run.log_model(LogisticRegression().fit(x, [1, 0, 1, 0]), "churn", input_example=x)
        p = as_alice.promote(
            "models:/churn/1", "staging", alias="champion", workspace="team", wait=False,
            reason="best on holdout",
        )  # fmt: skip
    work(platform)
    assert c.get_promotion(p.id).status == "awaiting_approval"
    return Queue(seeded, p.id, alice, carol, c, platform)


def test_the_requester_is_refused_and_another_approver_approves(
    page: Page, queue: Queue, shots: Path
) -> None:
    seeded = queue.seeded
    run_id = queue.client.get_model_version("models:/churn/1", workspace="team").run_id or ""
    # As ``watched``, but the refusal of alice's approval is expected: it alone may fail.
    problems = problems_of(page)
    sign_in(page, seeded, queue.alice, start="/w/team/promotions")
    row = page.locator("#promotions-table tbody tr", has_text="churn v1")
    expect(row).to_contain_text("awaiting approval")
    expect(row.locator(".gate")).to_have_text(["metric: passed", "approval: waiting"])
    page.screenshot(path=str(shots / "promotions.png"), full_page=True, caret="initial")
    row.get_by_role("link", name=f"#{queue.promotion}").click()
    expect(page.get_by_role("heading", name="churn v1 to staging")).to_be_visible()
    metric = page.get_by_role("table", name="Evidence of the metric gate")
    expect(metric.get_by_role("row", name="acc >= 0.8 0.91 True", exact=True)).to_be_visible()
    expect(metric.get_by_role("link", name=run_id[:8])).to_be_visible()
    expect(page.locator("#four-eyes")).to_contain_text("alice requested this promotion")
    assert unlabelled_controls(page) == []
    page.screenshot(path=str(shots / "promotion.png"), full_page=True, caret="initial")

    # Alice may approve in staging, but not her own request: the service says why.
    page.get_by_label("Comment").fill("mine, but fine")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("needs another pair of eyes")
    assert queue.client.get_promotion(queue.promotion).decisions == []

    page.context.clear_cookies()
    sign_in(page, seeded, queue.carol, start=f"/promotions/{queue.promotion}")
    page.get_by_label("Comment").fill("checked the gates")
    page.get_by_role("button", name="Approve").click()
    decisions = page.locator("#decisions")
    expect(decisions).to_contain_text("carol approved")
    expect(decisions).to_contain_text("checked the gates")
    work(queue.platform)
    page.reload()
    expect(page.locator("#promotion-status")).to_have_text("promoted")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    refused = f"403 {seeded.url}/promotions/{queue.promotion}/approve"
    assert [p for p in problems if "403" not in p] == [], problems
    assert problems.count(refused) == 1, problems


def test_a_viewer_and_a_post_without_csrf_decide_nothing(queue: Queue) -> None:
    seeded = queue.seeded
    origin = {"Origin": seeded.url}
    one = f"/promotions/{queue.promotion}"

    def state() -> tuple[str, int]:
        p = queue.client.get_promotion(queue.promotion)
        return p.status, len(p.decisions)

    before = state()
    with _signed_in(seeded, seeded.viewer_token) as http:
        page = http.get(one)
        assert page.status_code == 200 and "Approve" in page.text
        csrf = csrf_of(page.text)
        for action in ("approve", "reject"):
            r = http.post(f"{one}/{action}", data={"csrf": csrf, "comment": "no"}, headers=origin)
            assert r.status_code == 403, (action, r.text)
            assert "vera" in r.text
            assert state() == before
        assert http.get("/w/team/promotions").status_code == 200
    with _signed_in(seeded, queue.carol) as http:
        for action in ("approve", "reject"):
            r = http.post(f"{one}/{action}", data={"comment": "no"}, headers=origin)
            assert r.status_code == 403 and "CSRF" in r.text
            assert state() == before
        # A rejection needs its reason: the service names the field.
        csrf = csrf_of(http.get(one).text)
        r = http.post(f"{one}/reject", data={"csrf": csrf, "comment": ""}, headers=origin)
        assert r.status_code == 400 and "comment" in r.text
        assert state() == before
        r = http.post(f"{one}/reject", data={"csrf": csrf, "comment": "too soon"}, headers=origin)
        assert r.status_code == 303
        assert queue.client.get_promotion(queue.promotion).decisions[0].decision == "reject"
    with _signed_in(seeded, seeded.outsider_token) as http:
        # A workspace the principal may not read is not found, as by every other route.
        r = http.get("/w/team/promotions")
        assert r.status_code == 404 and "churn" not in r.text
        assert "workspace &#39;team&#39; not found (you can see: none)" in r.text
        r = http.get(one)
        assert r.status_code in (403, 404) and "holdout" not in r.text
