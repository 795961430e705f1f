"""What the WebSocket routes need from storage and from API Gateway's Management API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from inbox.store.connections import StoredConnection


class ConnectionRegistry(Protocol):
    def stored(self, user_id: str) -> list[StoredConnection]: ...

    def add(self, user_id: str, connection_id: str) -> None: ...

    def remove(self, user_id: str, connection_id: str) -> None: ...


class ConnectionCloser(Protocol):
    def close(self, connection_id: str, message: Mapping[str, str]) -> bool:
        """Send ``message``, then end the connection; False when it had ended already."""
        ...
