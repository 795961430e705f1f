"""Open WebSocket connections of a user, each an expiring item (a missed $disconnect expires)."""

from __future__ import annotations

from inbox.store.keys import ItemKind, id_of, key
from inbox.store.table import TableGateway
from inbox.timestamps import now_ms, now_s


class ConnectionStore:
    def __init__(self, gateway: TableGateway, *, ttl_seconds: int) -> None:
        self._gateway = gateway
        self._ttl_seconds = ttl_seconds

    def add(self, user_id: str, connection_id: str) -> None:
        item = {**key(user_id, ItemKind.CONNECTION, connection_id), "at": now_ms(), "ttl": now_s() + self._ttl_seconds}
        self._gateway.call("put_item", Item=item)

    def remove(self, user_id: str, connection_id: str) -> None:
        self._gateway.call("delete_item", Key=key(user_id, ItemKind.CONNECTION, connection_id))

    def of(self, user_id: str) -> list[str]:
        """The user's live connection ids."""
        items = self._gateway.user_items(user_id, ItemKind.CONNECTION.value, live_only=True)
        return [id_of(str(item["sk"]), ItemKind.CONNECTION) or "" for item in items]
