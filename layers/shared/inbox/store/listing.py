"""Newest-first reads of a user's entries and the badge's counts, bounded at any inbox size.

The index partitions entries by state (unread, read, archived) and orders them by updatedAt, so:
* the inbox merges the unread and read partitions, two queries for a page;
* the unread listing and the counts read only the unread partition, from the top down to the
  read-all watermark (or to the lowest entry marked unread under it);
* the archive reads its own partition; the Mentions tab reads the sparse ``tabs`` index;
* clear-all is a lower bound: everything at or below its watermark is left out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from inbox.models import Notification, NotificationType
from inbox.store.items import MENTION_TAB_TYPES, InboxState, notification_from_item, updated_ms
from inbox.store.keys import (
    INDEX_NAME,
    STATE_POSITION,
    STATE_SK,
    TABS_INDEX_NAME,
    TOP_POSITION,
    archived_partition,
    lowest_position_after,
    mentions_partition,
    read_partition,
    unread_partition,
)
from inbox.store.table import TableGateway, query_arguments
from inbox.store.watermarks import WatermarkStore

# Counts are exact up to this many less one; beyond, the answer is "at least".
COUNT_CAP = 100
# The counts' first query: the watermarks and the newest entries, enough for the usual badge.
FIRST_COUNT_READ = 12


class Status(StrEnum):
    INBOX = "inbox"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Listing:
    status: Status = Status.INBOX
    unread_only: bool = False
    types: frozenset[NotificationType] = frozenset()  # empty: every type


@dataclass(frozen=True)
class ListPosition:
    """Where a listing stopped: the last index position given, and the watermarks it was read with."""

    position: str
    state: InboxState


@dataclass(frozen=True)
class StoredPage:
    notifications: list[Notification]
    last: ListPosition | None  # set when more entries follow


@dataclass(frozen=True)
class StoredCounts:
    unread: int
    unseen: int
    capped: bool
    newest_unseen_ms: int = 0  # the newest unseen entry's updatedAt; 0 when nothing is unseen


class InboxQueries:
    def __init__(self, gateway: TableGateway, watermarks: WatermarkStore) -> None:
        self._gateway = gateway
        self._watermarks = watermarks

    def newest(
        self, user_id: str, listing: Listing, limit: int, after: ListPosition | None, since_ms: int = 0
    ) -> StoredPage:
        """A page of the listing, newest first; ``since_ms`` keeps only entries changed after it."""
        upper = after.position if after else TOP_POSITION
        state = after.state if after else None
        if listing.status is Status.ARCHIVED:
            sources = [(INDEX_NAME, "g1", archived_partition(user_id))]
        elif _is_tab(listing):
            sources = [(TABS_INDEX_NAME, "g2", mentions_partition(user_id))]
        elif listing.unread_only:
            sources = [(INDEX_NAME, "g1", unread_partition(user_id))]
        else:
            sources = list(_inbox_sources(user_id))
            if state is None and not listing.types:
                # The first unread query returns the STATE item on top: no request of its own. (A
                # filter by type would leave it out.)
                upper = STATE_POSITION
        if state is None and upper != STATE_POSITION:
            state = self._watermarks.state(user_id)
        lower = lowest_position_after(since_ms)
        if state is not None and listing.status is Status.INBOX:
            lower = max(lower, lowest_position_after(state.cleared))
            if listing.unread_only:
                lower = max(lower, _unread_floor(state))
        if lower > upper:
            return StoredPage(notifications=[], last=None)  # a cursor below the listing's own floor
        return _page(listing, limit, state, self._reads(user_id, listing, state, sources, lower, upper, limit), lower)

    def opening(self, user_id: str, listing: Listing, limit: int) -> tuple[StoredPage, StoredCounts]:
        """A listing's first page and the badge's counts. The inbox's page reads the unread partition
        from the top, watermarks first: the counts start from that same read instead of one of their own."""
        if listing != Listing():
            return self.newest(user_id, listing, limit, None), self.counts(user_id)
        lower = lowest_position_after(0)
        reads = self._reads(user_id, listing, None, list(_inbox_sources(user_id)), lower, STATE_POSITION, limit)
        page, top = _page(listing, limit, None, reads, lower), reads[0]
        state = InboxState.of(top.items[0] if top.items and top.items[0]["sk"] == STATE_SK else None)
        entries = [item for item in top.items if item["sk"] != STATE_SK]
        counts, _ = self._count(user_id, with_unread=True, top=(state, entries, top.stop is not None))
        return page, counts

    def _reads(
        self,
        user_id: str,
        listing: Listing,
        state: InboxState | None,
        sources: list[tuple[str, str, str]],
        lower: str,
        upper: str,
        limit: int,
    ) -> list[_SourceRead]:
        """Each source's query for a page, one after another. Where a query stops while more remain,
        the page stops too (``_page``'s cut): the next source's query starts no lower."""
        reads = []
        for source in sources:
            read = self._read(user_id, listing, state, source, lower, upper, limit)
            reads.append(read)
            lower = max(lower, read.stop or lower)
        return reads

    def _read(
        self,
        user_id: str,
        listing: Listing,
        state: InboxState | None,
        source: tuple[str, str, str],
        lower: str,
        upper: str,
        limit: int,
    ) -> _SourceRead:
        """One source's query for a page: one more entry than the page, newest first."""
        index_name, prefix, partition = source
        arguments = query_arguments(
            f"{prefix}pk = :partition AND {prefix}sk BETWEEN :lower AND :upper",
            {":partition": partition, ":lower": lower, ":upper": upper},
            live_only=True,
        )
        _filter(arguments, user_id, listing, state)
        response = self._gateway.query(IndexName=index_name, **arguments, ScanIndexForward=False, Limit=limit + 1)
        stop = str(response["LastEvaluatedKey"][f"{prefix}sk"]) if "LastEvaluatedKey" in response else None
        return _SourceRead(prefix=prefix, upper=upper, items=response["Items"], stop=stop)

    def unseen_entries(
        self, user_id: str, since_ms: int, limit: int, types: frozenset[NotificationType] = frozenset()
    ) -> tuple[list[Notification], bool]:
        """The newest unseen entries changed after ``since_ms`` (of ``types``, or every type), and whether
        more may follow: one query of the unread partition from the top, whose first item is the
        watermarks (an email digest's read)."""
        state, items, read_on = self._unread_from_top(user_id, limit + 1, lowest_position_after(since_ms))
        floor = lowest_position_after(state.cleared)
        entries = [
            item
            for item in items
            if item["g1sk"] >= floor
            and state.is_unread(item)
            and not state.is_seen(item)
            and (not types or item["t"] in types)
        ]
        more = len(entries) > limit or read_on
        return [notification_from_item(item, state) for item in entries[:limit]], more

    def counts(self, user_id: str) -> StoredCounts:
        """Unread and unseen entries, each exact up to COUNT_CAP - 1."""
        return self._count(user_id, with_unread=True)[0]

    def live(self, user_id: str) -> tuple[StoredCounts, InboxState]:
        """The counts, and the watermarks they were read with: what live messages carry."""
        return self._count(user_id, with_unread=True)

    def unseen(self, user_id: str) -> int:
        """Unseen entries only: the badge after the inbox was opened is one small read."""
        return self._count(user_id, with_unread=False)[0].unseen

    def _unread_from_top(
        self, user_id: str, entries: int, lower: str | None = None
    ) -> tuple[InboxState, list[dict[str, Any]], bool]:
        """One query of the unread partition from the top: the watermarks (the STATE item sorts first),
        then up to ``entries`` of the newest entries (down to ``lower``), and whether more follow."""
        condition, values = "g1pk = :partition", {":partition": unread_partition(user_id)}
        if lower is not None:
            condition += " AND g1sk BETWEEN :lower AND :upper"
            values |= {":lower": lower, ":upper": STATE_POSITION}
        response = self._gateway.query(
            IndexName=INDEX_NAME,
            **query_arguments(condition, values, live_only=True),
            ScanIndexForward=False,
            Limit=entries + 1,
        )
        items = response["Items"]
        state = InboxState.of(items[0] if items and items[0]["sk"] == STATE_SK else None)
        return state, [item for item in items if item["sk"] != STATE_SK], "LastEvaluatedKey" in response

    def _count(
        self, user_id: str, *, with_unread: bool, top: tuple[InboxState, list[dict[str, Any]], bool] | None = None
    ) -> tuple[StoredCounts, InboxState]:
        """The first query reads the watermarks and the newest few entries: enough for the unseen count
        of an inbox opened lately (``top``, when a page has read them already). A second query reads on
        only as far as the count needs, down to the read-all watermark (unread) or the seen-all one
        (unseen), at most COUNT_CAP entries in all. ``unread`` is only a lower bound without ``with_unread``.
        """
        partition = unread_partition(user_id)
        state, entries, read_on = top or self._unread_from_top(user_id, FIRST_COUNT_READ - 1)
        cleared = lowest_position_after(state.cleared)
        unseen_floor = max(cleared, lowest_position_after(max(state.seen_all, state.read_all)))
        floor = max(cleared, _unread_floor(state)) if with_unread else unseen_floor
        # Entries left unread beyond what the count reads: it says "at least" (capped).
        unread_beyond = False
        reached_floor = bool(entries) and entries[-1]["g1sk"] < floor
        if read_on and not reached_floor and len(entries) > COUNT_CAP:
            unread_beyond = True  # a page of 100 read as far as the count goes
        elif read_on and not reached_floor:
            upper = str(entries[-1]["g1sk"]) if entries else TOP_POSITION
            more = self._gateway.query(
                IndexName=INDEX_NAME,
                **query_arguments(
                    "g1pk = :partition AND g1sk BETWEEN :lower AND :upper",
                    {":partition": partition, ":lower": floor, ":upper": upper},
                    live_only=True,
                ),
                ScanIndexForward=False,
                Limit=COUNT_CAP + 1 - len(entries),
            )
            entries += [item for item in more["Items"] if item["g1sk"] != upper]
            unread_beyond = "LastEvaluatedKey" in more
        unread = [item for item in entries if item["g1sk"] >= cleared and state.is_unread(item)][:COUNT_CAP]
        unseen = [item for item in unread if item["g1sk"] >= unseen_floor and not state.is_seen(item)]
        capped = len(unread) >= COUNT_CAP or unread_beyond
        newest_unseen_ms = updated_ms(unseen[0]) if unseen else 0
        return StoredCounts(len(unread), len(unseen), capped, newest_unseen_ms), state


@dataclass(frozen=True)
class _SourceRead:
    """What one query of a page's source returned, and where it stopped while more remained."""

    prefix: str  # of the index's key attributes: g1 (inbox) or g2 (tabs)
    upper: str  # the position the query started at, itself left out (a cursor's last entry)
    items: list[dict[str, Any]]
    stop: str | None


def _inbox_sources(user_id: str) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    """The inbox merges the unread and the read partitions."""
    return (INDEX_NAME, "g1", unread_partition(user_id)), (INDEX_NAME, "g1", read_partition(user_id))


def _page(listing: Listing, limit: int, state: InboxState | None, reads: list[_SourceRead], lower: str) -> StoredPage:
    """The newest ``limit`` entries the sources' queries returned, and where the next page starts."""
    candidates: list[dict[str, Any]] = []
    # No position below the highest one a query stopped at while more remained: a page must not
    # skip what that query has not read yet.
    cut = lower
    for read in reads:
        for item in read.items:
            if item["sk"] == STATE_SK:
                state = InboxState.of(item)
            elif item[f"{read.prefix}sk"] != read.upper:
                candidates.append(item)
        if read.stop is not None:
            cut = max(cut, read.stop)
    state = state or InboxState()
    if listing.status is Status.INBOX:
        lower = max(lower, lowest_position_after(state.cleared))
    shown = [item for item in candidates if item["g1sk"] >= max(cut, lower)]
    shown.sort(key=lambda item: str(item["g1sk"]), reverse=True)
    page = shown[:limit]
    more = len(shown) > limit or cut > lower
    last = None
    if more:
        stop = str(page[-1]["g1sk"]) if page else cut
        last = ListPosition(position=stop, state=state)
    return StoredPage(notifications=[notification_from_item(item, state) for item in page], last=last)


def _tab_only(types: Collection[NotificationType]) -> bool:
    return bool(types) and set(types) <= MENTION_TAB_TYPES


def _is_tab(listing: Listing) -> bool:
    """The Mentions tab of the inbox: read from the sparse tabs index."""
    return listing.status is Status.INBOX and _tab_only(listing.types)


def _unread_floor(state: InboxState) -> str:
    floor = lowest_position_after(state.read_all)
    return min(floor, state.unread_floor) if state.unread_floor else floor


def _filter(arguments: dict[str, Any], user_id: str, listing: Listing, state: InboxState | None) -> None:
    """Read-time filters: types beyond the tab's, the archive out of the tab, unread only."""
    conditions = [arguments["FilterExpression"]] if "FilterExpression" in arguments else []
    values: dict[str, Any] = arguments["ExpressionAttributeValues"]
    if listing.types and not (_is_tab(listing) and listing.types == MENTION_TAB_TYPES):
        names = []
        for index, kind in enumerate(sorted(listing.types)):
            values[f":type{index}"] = kind.value
            names.append(f":type{index}")
        conditions.append(f"t IN ({', '.join(names)})")
    if _is_tab(listing):
        # The tabs index holds archived mentions too (g1pk is no key of it).
        values[":archived"] = archived_partition(user_id)
        conditions.append("g1pk <> :archived")
    if listing.unread_only and state is not None:
        # Changed after read-all (u; s for entries of the first version), or marked unread since.
        values[":read_all"] = state.read_all
        arguments.setdefault("ExpressionAttributeNames", {})["#u"] = "u"
        conditions.append("attribute_not_exists(r) AND (#u > :read_all OR s > :read_all OR ux > :read_all)")
    if conditions:
        arguments["FilterExpression"] = " AND ".join(f"({condition})" for condition in conditions)
