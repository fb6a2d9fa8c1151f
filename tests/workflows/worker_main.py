"""A worker process for the tests: ``python worker_main.py DB_URL HOME LEASE [CONCURRENCY]``."""

from __future__ import annotations

import sys

import tests.workflows.flows  # noqa: F401 - registers the test workflows

from modelwright.core.platform import Platform
from modelwright.settings import Settings
from modelwright.workflows import Worker

if __name__ == "__main__":
    url, home, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
    concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    platform = Platform(Settings(home=home, db_url=url, require_auth=False))
    Worker(platform, concurrency=concurrency, lease_seconds=lease, poll_seconds=0.05).run_forever()
