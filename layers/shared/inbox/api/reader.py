"""The inbox as clients read it: pages behind opaque cursors, and the unread count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inbox.api.cursor import Cursor
from inbox.models import NotificationPage, UnreadCount
from inbox.store.notifications import StoredPage

if TYPE_CHECKING:
    from inbox.api.ports import NotificationReader


class InboxReader:
    def __init__(self, notifications: NotificationReader) -> None:
        self._notifications = notifications

    def page(
        self, user_id: str, *, limit: int, cursor: str | None = None, unread_only: bool = False
    ) -> NotificationPage:
        """Newest first; a cursor from another user or listing is a BadCursor."""
        after = Cursor.decode(cursor, user_id=user_id, unread_only=unread_only).after if cursor else None
        if unread_only:
            stored = self._notifications.newest_unread(user_id, limit, after)
        else:
            stored = self._notifications.newest(user_id, limit, after)
        return _page(user_id, stored, unread_only=unread_only)

    def unread_count(self, user_id: str) -> UnreadCount:
        stored = self._notifications.count_unread(user_id)
        return UnreadCount(count=stored.count, capped=stored.capped)


def _page(user_id: str, stored: StoredPage, *, unread_only: bool) -> NotificationPage:
    next_cursor = None
    if stored.last is not None:
        last = stored.last
        cursor = Cursor(user_id=user_id, unread_only=unread_only, position=last.position, watermark=last.watermark)
        next_cursor = cursor.encode()
    return NotificationPage(items=stored.notifications, next_cursor=next_cursor)
