"""A user's open connections are capped: a new one beyond the cap closes the user's oldest.

Without a cap, one user (a script opening sockets in a loop, a browser restoring a hundred tabs)
would make every fan-out of a change of theirs post a message per socket, and the fan-out batch
that holds that change would be slow for every other user in it.

The newest connection wins: it is the one the user is looking at. The closed one is told why first
(``{"type": "closed", "reason": "too_many_connections"}``), so that its client does not reconnect and
close another in turn. API Gateway accepts messages to an open connection during another
connection's $connect: only the connection being opened cannot be posted to until $connect ends.
"""

from __future__ import annotations

from typing import Final

from inbox.observability import logger
from inbox.sockets.ports import ConnectionCloser, ConnectionRegistry
from inbox.store.connections import StoredConnection

CLOSED_TOO_MANY_CONNECTIONS: Final = {"type": "closed", "reason": "too_many_connections"}


class Admission:
    def __init__(self, connections: ConnectionRegistry, closer: ConnectionCloser, *, max_per_user: int) -> None:
        self._connections = connections
        self._closer = closer
        self._max_per_user = max_per_user

    def admit(self, user_id: str, connection_id: str) -> list[str]:
        """Record the user's new connection, and close the oldest ones beyond the cap; returns those closed.

        Capacity: one query (at most the cap plus a margin of small items: 1 read unit), the new
        item and, at the cap, the oldest item's deletion (2 write units).
        """
        known = self._connections.stored(user_id)
        self._connections.add(user_id, connection_id)
        excess = len(known) + 1 - self._max_per_user
        if excess <= 0:
            return []
        oldest_first = sorted(known, key=_age_order)[:excess]
        for position, stored in enumerate(oldest_first):
            still_open = self._closer.close(stored.connection_id, CLOSED_TOO_MANY_CONNECTIONS)
            # The oldest is forgotten at once, so the fan-out stops posting to it: $disconnect is
            # best-effort. More than one is over the cap only after connects that raced: those
            # are forgotten by their own $disconnect, which keeps a connect at 2 write units, or
            # here if API Gateway says they are gone already (no $disconnect will come for them).
            if position == 0 or not still_open:
                self._connections.remove(user_id, stored.connection_id)
        logger.info(
            "closed the oldest connections beyond the cap",
            extra={"closed": len(oldest_first), "max_connections_per_user": self._max_per_user},
        )
        return [stored.connection_id for stored in oldest_first]


def _age_order(stored: StoredConnection) -> tuple[int, str]:
    return stored.connected_at_ms, stored.connection_id
