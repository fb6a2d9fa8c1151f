"""The serving latency histogram's buckets, apart from the schema so that the request models
(and so the client) can name them without loading SQLAlchemy."""

from __future__ import annotations

__all__ = ["SERVING_LATENCY_BOUNDS_MS"]

# Upper bounds (milliseconds) of the latency histogram's buckets; one more bucket counts what is
# slower than the last. A column per bucket, so that totals over any window are SUMs in SQL on
# both databases. Changing the bounds means a migration.
SERVING_LATENCY_BOUNDS_MS: tuple[float, ...] = (
    1,
    2,
    5,
    10,
    20,
    30,
    50,
    75,
    100,
    150,
    200,
    250,
    300,
    400,
    500,
    750,
    1000,
    2500,
    5000,
    10000,
)
