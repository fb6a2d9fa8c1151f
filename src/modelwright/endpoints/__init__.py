"""Endpoints and deployments: which model versions serve an environment's traffic, by weight."""
