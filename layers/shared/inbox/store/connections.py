"""Open WebSocket connections of a user, each an expiring item (a missed $disconnect expires).

Every read is one query of at most ``read_limit`` items: the cap on a user's connections plus a
margin for connects that raced each other. A user holds at most the cap (a new connection closes
the oldest: inbox.sockets.admission), so the limit only bites when something went wrong, and then
it keeps one user's connections from making a fan-out batch slow for everyone else in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.store.keys import ItemKind, id_of, key, user_pk
from inbox.store.table import TableGateway, query_arguments
from inbox.timestamps import now_ms, now_s

DEFAULT_MAX_PER_USER = 10
# Connects of one user that run at the same moment each see the others' items only once written:
# a few may pass the cap together. The next connect closes the excess.
READ_MARGIN = 5


@dataclass(frozen=True)
class StoredConnection:
    connection_id: str
    connected_at_ms: int


class ConnectionStore:
    def __init__(self, gateway: TableGateway, *, ttl_seconds: int, max_per_user: int = DEFAULT_MAX_PER_USER) -> None:
        self._gateway = gateway
        self._ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user

    @property
    def read_limit(self) -> int:
        return self.max_per_user + READ_MARGIN

    def add(self, user_id: str, connection_id: str) -> None:
        item = {**key(user_id, ItemKind.CONNECTION, connection_id), "at": now_ms(), "ttl": now_s() + self._ttl_seconds}
        self._gateway.call("put_item", Item=item)

    def remove(self, user_id: str, connection_id: str) -> None:
        self._gateway.call("delete_item", Key=key(user_id, ItemKind.CONNECTION, connection_id))

    def of(self, user_id: str) -> list[str]:
        """The user's live connection ids, at most ``read_limit`` of them."""
        return [stored.connection_id for stored in self._read(user_id, live_only=True)]

    def stored(self, user_id: str) -> list[StoredConnection]:
        """The user's connection items, at most ``read_limit``, expired ones too.

        An expired item is a connection whose $disconnect never came: it is older than any live
        one, so it is the first a new connection replaces, and its item goes with it.
        """
        return self._read(user_id, live_only=False)

    def _read(self, user_id: str, *, live_only: bool) -> list[StoredConnection]:
        arguments = query_arguments(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": user_pk(user_id), ":prefix": ItemKind.CONNECTION.value},
            live_only=live_only,
        )
        # One page, never the next: the limit is what bounds the read.
        response = self._gateway.query(**arguments, Limit=self.read_limit)
        return [
            StoredConnection(id_of(str(item["sk"]), ItemKind.CONNECTION) or "", int(item.get("at", 0)))
            for item in response.get("Items", [])
        ]
