"""Inbox changes as WebSocket messages, within API Gateway's frame limit."""

from __future__ import annotations

import json
from typing import Any

from inbox.delivery.changes import InboxChange
from inbox.models import Notification, fit_excerpt

# API Gateway refuses WebSocket messages over 128 KB. A notification is a few hundred bytes
# (excerpts are capped at ingest); a larger one (an item written some other way) has its excerpt
# shortened to fit, as a push does, rather than being dropped.
WEBSOCKET_FRAME_LIMIT = 128 * 1024


def encoded(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def websocket_message(change: InboxChange) -> bytes:
    """The change as one WebSocket message; a new notification's excerpt is shortened to fit the frame limit."""
    data = encoded(change.message)
    if len(data) <= WEBSOCKET_FRAME_LIMIT or change.created is None:
        return data

    def with_notification(notification: Notification) -> bytes:
        return encoded({**change.message, "notification": notification.model_dump(mode="json", by_alias=True)})

    fitted = fit_excerpt(
        change.created, lambda notification: len(with_notification(notification)), WEBSOCKET_FRAME_LIMIT
    )
    return with_notification(fitted)
