"""The inbox as clients read it: pages behind opaque cursors, and the counts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from inbox.api.cursor import Cursor
from inbox.models import Counts, LiveCounts, NotificationPage, UnreadCount
from inbox.store.listing import Listing, StoredPage
from inbox.timestamps import to_ms

if TYPE_CHECKING:
    from inbox.api.ports import InboxQueriesPort


class InboxReader:
    def __init__(self, queries: InboxQueriesPort) -> None:
        self._queries = queries

    def page(
        self,
        user_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        listing: Listing = Listing(),  # noqa: B008 - frozen, so one default serves every call
    ) -> NotificationPage:
        """Newest first; a cursor from another user or listing is a BadCursor."""
        after = Cursor.decode(cursor, user_id=user_id, listing=listing).after if cursor else None
        return _page(user_id, listing, self._queries.newest(user_id, listing, limit, after))

    def changed_since(self, user_id: str, since: datetime | None, *, limit: int) -> NotificationPage:
        """The inbox's first page, or only the entries that changed after ``since``."""
        listing = Listing()
        if since is None:
            return _page(user_id, listing, self._queries.newest(user_id, listing, limit, None))
        stored = self._queries.newest(user_id, listing, limit, None, since_ms=to_ms(since))
        # No cursor: paging on would list entries that did not change; a client that had more
        # than a page to catch up on reads the inbox afresh.
        return NotificationPage(items=stored.notifications, next_cursor=None)

    def counts(self, user_id: str) -> Counts:
        stored = self._queries.counts(user_id)
        return Counts(unread=stored.unread, unseen=stored.unseen, capped=stored.capped)

    def live_counts(self, user_id: str) -> LiveCounts:
        stored = self._queries.counts(user_id)
        return LiveCounts(unread=stored.unread, unseen=stored.unseen)

    def unread_count(self, user_id: str) -> UnreadCount:
        stored = self._queries.counts(user_id)
        return UnreadCount(count=stored.unread, capped=stored.capped)


def _page(user_id: str, listing: Listing, stored: StoredPage) -> NotificationPage:
    next_cursor = Cursor(user_id=user_id, listing=listing, after=stored.last).encode() if stored.last else None
    return NotificationPage(items=stored.notifications, next_cursor=next_cursor)
