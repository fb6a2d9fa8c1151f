"""The UI's sign-in, session cookie, CSRF and permission checks, over plain HTTP (what a
forged request would send); tests/ui/test_ui_browser.py drives the same pages in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from tests.ui.conftest import Seeded


@contextmanager
def _signed_in(seeded: Seeded, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seeded.url, follow_redirects=False) as http:
        r = http.post(
            "/sign-in", data={"token": token, "next": "/"}, headers={"Origin": seeded.url}
        )
        assert r.status_code == 303, r.text
        yield http


def test_pages_need_a_session_and_the_cookie_is_locked_down(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as anon:
        r = anon.get("/w/ml/runs?filter=x", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"] == "/sign-in?next=%2Fw%2Fml%2Fruns%3Ffilter%3Dx"
        # The metric series (JSON) is not readable without a session either.
        r = anon.get(f"/runs/{seeded.run_ids['run-0']}/metrics/loss", follow_redirects=False)
        assert r.status_code == 303
    with _signed_in(seeded, seeded.admin_token) as http:
        cookie = http.cookies.jar
        (c,) = list(cookie)
        assert c.name == "mw_session"
        assert c.has_nonstandard_attr("HttpOnly")
        assert c.get_nonstandard_attr("SameSite").lower() == "strict"
        page = http.get("/w/ml/runs")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"


def test_a_wrong_token_is_refused_with_the_reason(seeded: Seeded) -> None:
    with httpx.Client(base_url=seeded.url) as http:
        bad = "mwt_" + "x" * 43
        r = http.post("/sign-in", data={"token": bad}, headers={"Origin": seeded.url})
        assert r.status_code == 401
        assert "unknown token" in r.text
        assert "mw_session" not in r.headers.get("set-cookie", "")


def test_a_post_without_csrf_or_from_another_origin_is_refused(seeded: Seeded) -> None:
    with _signed_in(seeded, seeded.admin_token) as http:
        run = seeded.run_ids["still-going"]
        r = http.post(f"/runs/{run}/kill", data={}, headers={"Origin": seeded.url})
        assert r.status_code == 403
        assert "CSRF" in r.text
        page = http.get(f"/runs/{run}")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = http.post(
            f"/runs/{run}/kill", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}
        )
        assert r.status_code == 403
        r = http.post(f"/runs/{run}/kill", data={"csrf": csrf})  # no Origin, no Referer
        assert r.status_code == 403
        assert "running" in http.get(f"/runs/{run}").text
        # The same form from the server's own page goes through.
        r = http.post(f"/runs/{run}/kill", data={"csrf": csrf}, headers={"Origin": seeded.url})
        assert r.status_code == 303
        assert 'class="status killed"' in http.get(f"/runs/{run}").text


def test_a_viewer_sees_but_cannot_change(seeded: Seeded) -> None:
    with _signed_in(seeded, seeded.viewer_token) as http:
        run = seeded.run_ids["still-going"]
        page = http.get(f"/runs/{run}")
        assert page.status_code == 200
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        r = http.post(f"/runs/{run}/kill", data={"csrf": csrf}, headers={"Origin": seeded.url})
        assert r.status_code == 403
        assert "permission" in r.text.lower() or "not allowed" in r.text.lower()
        assert 'class="status running"' in http.get(f"/runs/{run}").text


def test_a_bad_filter_says_what_is_wrong_and_keeps_the_page(seeded: Seeded) -> None:
    with _signed_in(seeded, seeded.admin_token) as http:
        r = http.get("/w/ml/runs", params={"filter": "metrics.auc >>> 1"})
        assert r.status_code == 400
        assert 'role="alert"' in r.text
        assert "Runs" in r.text


def test_the_runs_table_shows_its_chosen_columns_and_offers_every_other(seeded: Seeded) -> None:
    with _signed_in(seeded, seeded.admin_token) as http:
        r = http.get("/w/ml/runs", params={"experiment": "churn", "cols": "params.depth,oops"})
        assert r.status_code == 200
        head = r.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
        assert "params.depth" in head and "oops" in head
        assert "metrics.auc" not in head and "params.lr" not in head
        # The chooser offers every column of the experiment's runs, shown or not.
        for column in ("metrics.auc", "metrics.loss", "params.depth", "params.lr"):
            assert f'name="col" value="{column}"' in r.text


def test_metric_series_are_downsampled_keeping_extremes(seeded: Seeded) -> None:
    with _signed_in(seeded, seeded.admin_token) as http:
        run = seeded.run_ids["run-0"]
        full = http.get(f"/runs/{run}/metrics/loss", params={"points": 1000}).json()
        assert full["total"] == 50 and len(full["steps"]) == 50
        small = http.get(f"/runs/{run}/metrics/loss", params={"points": 10}).json()
        assert len(small["steps"]) <= 10
        assert max(small["values"]) == max(full["values"])
        assert min(small["values"]) == min(full["values"])
        assert small["steps"] == sorted(small["steps"])
        r = http.get(f"/runs/{run}/metrics/loss", params={"points": "many"})
        assert r.status_code == 400


def test_the_sign_in_link_works_once(seeded: Seeded) -> None:
    nonce = seeded.auth.one_time_link(seeded.admin_token)
    with httpx.Client(base_url=seeded.url) as http:
        r = http.get("/sign-in", params={"once": nonce, "next": "/w/ml/runs"})
        assert r.status_code == 303
        assert r.headers["location"] == "/w/ml/runs"
        assert "mw_session=" in r.headers["set-cookie"]
    with httpx.Client(base_url=seeded.url) as other:
        r = other.get("/sign-in", params={"once": nonce})
        assert r.status_code == 401
        assert "used already or has expired" in r.text
        # ``next`` never leads off this server.
        r = other.post(
            "/sign-in",
            data={"token": seeded.admin_token, "next": "//evil.example/x"},
            headers={"Origin": seeded.url},
        )
        assert r.headers["location"] == "/"


def test_no_page_shows_what_the_principal_cannot_read(seeded: Seeded) -> None:
    """Artifacts, their raw bytes, metric series and comparisons: each reached another way
    than the run page, each refused to a principal with no grant in the workspace."""
    run, other = seeded.run_ids["run-0"], seeded.run_ids["run-1"]
    paths = [
        f"/runs/{run}",
        f"/runs/{run}/artifacts/scores.csv",
        f"/runs/{run}/artifacts/report.html/raw",
        f"/runs/{run}/metrics/loss",
        f"/w/ml/compare?run={run}&run={other}",
        "/w/ml/runs",
    ]
    with _signed_in(seeded, seeded.outsider_token) as http:
        for path in paths:
            r = http.get(path)
            assert r.status_code in (403, 404), (path, r.status_code)
            assert "scores" not in r.text and "0.71" not in r.text, path
    with _signed_in(seeded, seeded.admin_token) as http:
        for path in paths:
            assert http.get(path).status_code == 200, path


def test_raw_artifacts_cannot_run_as_this_site(seeded: Seeded) -> None:
    run = seeded.run_ids["run-0"]
    with _signed_in(seeded, seeded.admin_token) as http:
        r = http.get(f"/runs/{run}/artifacts/report.html/raw")
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["content-security-policy"].startswith("sandbox")
        r = http.get(f"/runs/{run}/artifacts/config.json/raw")
        assert r.headers["content-type"].startswith("text/plain")
        assert http.get(f"/runs/{run}/artifacts/nope.txt").status_code == 404


def test_audit_times_without_a_zone_are_utc_and_a_bad_one_is_named(seeded: Seeded) -> None:
    with _signed_in(seeded, seeded.admin_token) as http:
        r = http.get("/audit", params={"since": "2000-01-01T00:00", "action": "grant.*"})
        assert r.status_code == 200 and "grant.create" in r.text
        r = http.get("/audit", params={"since": "2999-01-01T00:00"})
        assert r.status_code == 200 and "No events match." in r.text
        r = http.get("/audit", params={"since": "yesterday"})
        assert r.status_code == 400 and 'role="alert"' in r.text and "since" in r.text
    with _signed_in(seeded, seeded.outsider_token) as http:
        # The trail shows only what the principal may see: nothing of workspace ml.
        r = http.get("/audit")
        assert "grant.create" not in r.text
