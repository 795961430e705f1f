"""What the WebSocket API answers to messages clients send ($default route).

The socket delivers the inbox's changes; everything else goes through the HTTP API. A client
sends ``{"type": "ping"}`` to keep an idle connection open (API Gateway closes it after 10 idle
minutes) and gets ``{"type": "pong"}``. ``{"type": "sync"}`` answers with the inbox's first page
and the counts, and with ``"since": "<updatedAt>"`` only the entries that changed since then: a
reconnecting tab is current in one round trip. Anything else gets a clear error, never a crash.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from inbox.models import LiveCounts, NotificationPage

PING = "ping"
SYNC = "sync"
SYNC_PAGE_SIZE = 20
UNSUPPORTED = (
    'this socket sends the inbox\'s changes: send {"type": "ping"} to keep it open, {"type": "sync"} '
    '(with "since": an updatedAt) to catch up, and use the HTTP API for everything else'
)


class SyncSource(Protocol):
    def changed_since(self, user_id: str, since: datetime | None, *, limit: int) -> NotificationPage: ...

    def live_counts(self, user_id: str) -> LiveCounts: ...


def error(code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"code": code, "message": message}}


def answer(body: str | None, user_id: str | None, inbox: SyncSource) -> dict[str, Any]:
    """The answer to one client message, whatever it holds."""
    try:
        message = json.loads(body or "")
    except (ValueError, RecursionError):
        message = None
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == PING:
        return {"type": "pong"}
    if kind != SYNC or not isinstance(message, dict):
        return error("unsupported_message", UNSUPPORTED)
    if not user_id:
        return error("unauthorized", "this connection has no user")
    since = message.get("since")
    try:
        since_time = datetime.fromisoformat(since) if isinstance(since, str) else None
    except ValueError:
        since_time = None
    if (since is not None and since_time is None) or (since_time is not None and since_time.tzinfo is None):
        return error("invalid_message", 'since must be an updatedAt of this API, e.g. "2026-12-02T18:33:27.000Z"')
    page = inbox.changed_since(user_id, since_time, limit=SYNC_PAGE_SIZE)
    return {
        "type": SYNC,
        "page": page.model_dump(mode="json", by_alias=True),
        "counts": inbox.live_counts(user_id).model_dump(),
    }
