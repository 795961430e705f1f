"""In-memory stand-ins for the ports of inbox.sockets: a user's stored connections, and the Management API.

Each fake implements one Protocol of inbox.sockets.ports; mypy checks that they match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from inbox.sockets.ports import ConnectionCloser, ConnectionRegistry
from inbox.store.connections import StoredConnection


@dataclass
class InMemoryConnections:
    """Connections by user, each with the time it connected; ``clock`` gives each new one a later time."""

    items: dict[str, dict[str, int]] = field(default_factory=dict)
    clock: int = 0
    writes: int = 0

    def stored(self, user_id: str) -> list[StoredConnection]:
        return [StoredConnection(name, at) for name, at in self.items.get(user_id, {}).items()]

    def add(self, user_id: str, connection_id: str) -> None:
        self.clock += 1
        self.writes += 1
        self.items.setdefault(user_id, {})[connection_id] = self.clock

    def remove(self, user_id: str, connection_id: str) -> None:
        self.writes += 1
        self.items.get(user_id, {}).pop(connection_id, None)

    def ids(self, user_id: str) -> set[str]:
        return set(self.items.get(user_id, {}))


@dataclass
class RecordingCloser:
    """Records each connection closed with its message; connections in ``gone`` have ended already."""

    closed: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)

    def close(self, connection_id: str, message: Mapping[str, str]) -> bool:
        if connection_id in self.gone:
            return False
        self.closed.append((connection_id, dict(message)))
        return True


def _conforms(connections: InMemoryConnections, closer: RecordingCloser) -> tuple[ConnectionRegistry, ConnectionCloser]:
    return connections, closer
