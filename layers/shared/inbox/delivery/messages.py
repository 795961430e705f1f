"""Inbox changes as WebSocket messages, within API Gateway's frame limit."""

from __future__ import annotations

import json
from typing import Any

from inbox.delivery.changes import InboxChange
from inbox.models import LiveCounts, Notification, fit_excerpt
from inbox.store.items import InboxState, notification_from_item

# API Gateway refuses WebSocket messages over 128 KB. An entry is a few hundred bytes (excerpts
# are capped at ingest); a larger one (an item written some other way) has its excerpt shortened
# to fit, as a push does, rather than being dropped.
WEBSOCKET_FRAME_LIMIT = 128 * 1024


def encoded(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def entry_of(change: InboxChange, state: InboxState) -> Notification | None:
    return notification_from_item(change.item, state) if change.item is not None else None


def websocket_message(change: InboxChange, state: InboxState, counts: LiveCounts | None = None) -> bytes:
    """The change as one WebSocket message, with the user's counts; an entry's excerpt is shortened to fit."""
    message: dict[str, Any] = {"type": change.kind.value}
    if change.entry_id is not None and change.item is None:
        message["id"] = change.entry_id
    message.update(change.fields or {})
    if counts is not None:
        message["counts"] = counts.model_dump()
    entry = entry_of(change, state)
    if entry is None:
        return encoded(message)

    def with_entry(notification: Notification) -> bytes:
        return encoded({**message, "notification": notification.model_dump(mode="json", by_alias=True)})

    data = with_entry(entry)
    if len(data) <= WEBSOCKET_FRAME_LIMIT:
        return data
    return with_entry(fit_excerpt(entry, lambda notification: len(with_entry(notification)), WEBSOCKET_FRAME_LIMIT))
