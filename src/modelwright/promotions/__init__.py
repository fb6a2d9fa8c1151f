"""Promotions: a model version enters the next environment of the path through the gates
that environment's policy names (metric thresholds, a policy check, re-scoring on a holdout,
the champion to beat, four-eyes approval).
A promotion runs as a durable workflow (``tasks._promotion``)."""
