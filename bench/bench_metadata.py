"""Metadata write throughput: audited operations through the client, and raw audit rows."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from modelwright.client import Client, LocalTransport
from modelwright.core.platform import Platform
from modelwright.settings import Settings
from modelwright.store import schema

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def median_rate(run: Callable[[int], float], repeats: int) -> tuple[float, list[float]]:
    """Run ``run(i)`` (which returns its rate) ``repeats`` times; the median and all rates."""
    rates = [run(i) for i in range(repeats)]
    return statistics.median(rates), rates


def client_ops(client: Client, n: int, repeats: int) -> tuple[float, list[float]]:
    """create_principal n times per repeat: one transaction with an audit event each."""
    tag = uuid.uuid4().hex[:6]
    client.create_principal(f"warmup-{tag}")

    def run(r: int) -> float:
        start = time.perf_counter()
        for i in range(n):
            client.create_principal(f"bench-{tag}-{r}-{i}")
        return n / (time.perf_counter() - start)

    return median_rate(run, repeats)


def audit_rows(platform: Platform, n: int, repeats: int) -> tuple[float, list[float]]:
    """n audit rows per repeat in one executemany transaction: the storage ceiling."""

    def run(r: int) -> float:
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "at": now,
                "principal": "bench",
                "action": "bench.write",
                "workspace": "bench",
                "environment": "dev",
                "target": f"row-{r}-{i}",
                "before": None,
                "after": {"i": i},
            }
            for i in range(n)
        ]
        start = time.perf_counter()
        with platform.engine.begin() as conn:
            conn.execute(insert(schema.AuditEvent), rows)
        return n / (time.perf_counter() - start)

    return median_rate(run, repeats)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the local server, dropped afterwards."""
    name = f"mw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def server_version(platform: Platform) -> str:
    with platform.engine.connect() as conn:
        if platform.engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.execute(text("select sqlite_version()")).scalar())
        version = str(conn.execute(text("show server_version")).scalar()).split()[0]
        # Durability settings decide commit cost: report what the server really runs with.
        settings = ", ".join(
            f"{name}={conn.execute(text(f'show {name}')).scalar()}"
            for name in ("fsync", "synchronous_commit")
        )
        return f"{version} ({settings})"


def measure(
    kind: str, home: Path, *, ops: int, rows: int, repeats: int
) -> tuple[str, list[dict[str, Any]]]:
    """Both figures on one database kind ("sqlite" or "postgres"); the version and results."""
    with postgres_database() if kind == "postgres" else _no_database() as db_url:
        platform = Platform(Settings(home=home, db_url=db_url))
        with Client(LocalTransport(platform)) as client:
            version = server_version(platform)
            if kind == "postgres":
                version = "PostgreSQL " + version
            op_rate, op_all = client_ops(client, ops, repeats)
            row_rate, row_all = audit_rows(platform, rows, repeats)
    return version, [
        {
            "backend": kind,
            "workload": f"create_principal × {ops} (in-process client)",
            "median": op_rate,
            "unit": "ops/s",
            "all": op_all,
        },
        {
            "backend": kind,
            "workload": f"audit_events bulk insert, {rows} rows/txn",
            "median": row_rate,
            "unit": "rows/s",
            "all": row_all,
        },
    ]


@contextmanager
def _no_database() -> Iterator[None]:
    yield None  # SQLite: the platform's embedded default under home
