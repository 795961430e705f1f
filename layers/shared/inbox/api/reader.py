"""The inbox as clients read it: pages behind opaque cursors, and the counts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from inbox.api.cursor import Cursor
from inbox.models import Counts, InboxPage, LiveCounts, NotificationPage, UnreadCount
from inbox.store.listing import Listing, StoredCounts, StoredPage
from inbox.timestamps import to_ms

if TYPE_CHECKING:
    from inbox.api.ports import InboxQueriesPort, SeenWatermark


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
    ) -> InboxPage:
        """Newest first, the first page with the counts; a cursor from another user or listing is a BadCursor."""
        if cursor is None:
            stored, counts = self._queries.opening(user_id, listing, limit)
            return InboxPage(
                items=stored.notifications, next_cursor=_next(user_id, listing, stored), counts=_counts(counts)
            )
        after = Cursor.decode(cursor, user_id=user_id, listing=listing).after
        stored = self._queries.newest(user_id, listing, limit, after)
        return InboxPage(items=stored.notifications, next_cursor=_next(user_id, listing, stored), counts=None)

    def changed_since(self, user_id: str, since: datetime | None, *, limit: int) -> NotificationPage:
        """The inbox's first page, or only the entries that changed after ``since``."""
        listing = Listing()
        if since is None:
            stored = self._queries.newest(user_id, listing, limit, None)
            return NotificationPage(items=stored.notifications, next_cursor=_next(user_id, listing, stored))
        stored = self._queries.newest(user_id, listing, limit, None, since_ms=to_ms(since))
        # No cursor: paging on would list entries that did not change; a client that had more
        # than a page to catch up on reads the inbox afresh.
        return NotificationPage(items=stored.notifications, next_cursor=None)

    def counts(self, user_id: str) -> Counts:
        return _counts(self._queries.counts(user_id))

    def live_counts(self, user_id: str) -> LiveCounts:
        stored = self._queries.counts(user_id)
        return LiveCounts(unread=stored.unread, unseen=stored.unseen)

    def unread_count(self, user_id: str) -> UnreadCount:
        stored = self._queries.counts(user_id)
        return UnreadCount(count=stored.unread, capped=stored.capped)


class InboxOpener:
    """The user opened the inbox: its first page with the counts, and everything it showed is seen."""

    def __init__(self, queries: InboxQueriesPort, watermarks: SeenWatermark) -> None:
        self._queries = queries
        self._watermarks = watermarks

    def open(self, user_id: str, *, limit: int) -> InboxPage:
        """Entries say whether they were seen before this open, so that an app can mark what is new;
        the counts are those after it (nothing unseen). Writes nothing when nothing was unseen."""
        listing = Listing()
        stored, counts = self._queries.opening(user_id, listing, limit)
        if counts.unseen:
            # Up to the newest unseen entry the page read, not "now": what arrives meanwhile stays unseen.
            self._watermarks.see_up_to(user_id, counts.newest_unseen_ms)
        seen = Counts(unread=counts.unread, unseen=0, capped=counts.capped)
        return InboxPage(items=stored.notifications, next_cursor=_next(user_id, listing, stored), counts=seen)


def _counts(stored: StoredCounts) -> Counts:
    return Counts(unread=stored.unread, unseen=stored.unseen, capped=stored.capped)


def _next(user_id: str, listing: Listing, stored: StoredPage) -> str | None:
    return Cursor(user_id=user_id, listing=listing, after=stored.last).encode() if stored.last else None
