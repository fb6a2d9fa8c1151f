"""Promotions: a model version enters the next environment of the path through the gates
that environment's policy names (metric thresholds, a policy check, four-eyes approval).
A promotion runs as a durable workflow (``promotions.workflow``)."""
