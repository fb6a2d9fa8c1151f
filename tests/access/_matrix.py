"""The shared set-up of the role × action × environment tests."""

from __future__ import annotations

from modelwright.client import Client

GRANTED = ("w", "staging")
# Every place a check can name: each environment of the workspace, the whole workspace,
# another workspace, and the whole platform.
PLACES = [
    ("w", "dev"),
    ("w", "staging"),
    ("w", "prod"),
    ("w", "*"),
    ("other", "staging"),
    ("other", "*"),
    ("*", "*"),
]
ENV_PLACES = [(ws, env) for ws, env in PLACES if "*" not in (ws, env)]


def make_world(admin: Client) -> None:
    """Two workspaces, a principal to act on, and audit events in several scopes."""
    for ws in ("w", "other"):
        admin.create_workspace(ws)
        for env in ("dev", "staging", "prod"):
            admin.create_datastore(ws, env, f"seed-{env}", f"memory://{ws}/{env}")
    admin.create_principal("subject")
    admin.create_principal("peer")
