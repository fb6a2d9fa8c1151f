"""A node's own run while it runs: ``mw.active_run()`` inside a node is the node's child run.

The child run is named before the node runs (its id is chosen by the runner) and started on
the platform only when the node first asks for it, so a node that logs nothing costs no call.
A node may run in another process (a process pool, Ray): what it needs to reach the same
platform as the same caller travels with it (``NodeRunScope``), and its logging goes through
an ordinary client there. The node's run is not ended by the node: the record of the
pipeline's run ends it, with the node's status, duration and outputs.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelwright import _fluent

if TYPE_CHECKING:
    from modelwright.client import ActiveRun, Client
    from modelwright.client._transport import Connection

__all__ = ["NodeRunScope", "NodeRunState", "forget_client", "local_client"]


@dataclass(frozen=True)
class NodeRunScope:
    """What a node needs to start and log to its child run, wherever it runs (picklable)."""

    run_id: str
    parent_id: str
    name: str
    workspace: str
    environment: str
    experiment: str
    started: bool  # started by the runner already (a node reading a registered dataset)
    connection: Connection | None
    tags: dict[str, str] = field(default_factory=dict)
    # The runner's own client, when the node runs in the runner's process.
    client_key: str = ""
    pid: int = 0


# The clients of the pipeline runs going on in this process, by key: a node run in this
# process logs through its runner's client. A forked worker inherits the mapping but not the
# clients' threads and connections: it checks the process id and connects anew.
_LOCAL: dict[str, Client] = {}
# Clients a worker process connected, one per platform and caller, kept between nodes.
_CONNECTED: dict[tuple[Any, ...], Client] = {}
_lock = threading.Lock()


def local_client(client: Client) -> str:
    """Register ``client`` for the nodes of one run in this process; its key."""
    key = uuid.uuid4().hex
    _LOCAL[key] = client
    return key


def forget_client(key: str) -> None:
    _LOCAL.pop(key, None)


def _client(scope: NodeRunScope) -> Client | None:
    if scope.pid == os.getpid() and (client := _LOCAL.get(scope.client_key)) is not None:
        return client
    if scope.connection is None:
        return None
    c = scope.connection
    key = (
        c.url,
        c.settings.model_dump_json() if c.settings else "",
        c.token,
        c.principal,
        c.acting,
    )
    with _lock:
        client = _CONNECTED.get(key)
        if client is None:
            client = _CONNECTED[key] = c.connect()
        return client


class NodeRunState:
    """The node's run for the time the node runs: started on first use, then detached (its
    buffered logging sent) when the node returns or raises."""

    def __init__(self, scope: NodeRunScope) -> None:
        self.scope = scope
        self.run: ActiveRun | None = None
        self._token: Any = None

    @property
    def started(self) -> bool:
        """Whether the run exists on the platform now (the record then ends it)."""
        return self.scope.started or self.run is not None

    def __enter__(self) -> NodeRunState:
        self._token = _fluent.enter_node_run(self.get)
        return self

    def __exit__(self, *exc: object) -> None:
        _fluent.leave_node_run(self._token)
        if self.run is not None:
            self.run.detach()

    def get(self) -> ActiveRun:
        if self.run is not None:
            return self.run
        from modelwright.client import ActiveRun
        from modelwright.errors import Conflict

        s = self.scope
        client = _client(s)
        if client is None:
            raise Conflict(
                f"node '{s.name}': its run cannot be reached from this process (the executor "
                "ran it where the platform's connection is not known)",
                details={"node": s.name, "run_id": s.run_id},
            )
        if s.started:
            self.run = ActiveRun(client, client.get_run(s.run_id))
        else:
            self.run = client.start_run(
                s.experiment,
                workspace=s.workspace,
                environment=s.environment,
                name=s.name,
                tags=s.tags,
                parent_id=s.parent_id,
                snapshot=False,
                run_id=s.run_id,
            )
        return self.run
