"""Capacity units per operation as DynamoDB reports them, for `make bench` and the capacity tests.

Measured for the owner of a small inbox (10 unread) and of a crowded one (10,000 unread),
against the pipeline's budgets. Units are exact, so the tests assert these same figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inbox.api.reader import InboxOpener, InboxReader
from inbox.ingest.grouping import group_entry_id
from inbox.models import Actor, NotificationEvent, NotificationType, Resource, Retraction, hashed_id
from inbox.store.items import actor_value, entry_item
from inbox.store.keys import archived_partition
from inbox.store.listing import Listing, Status
from inbox.timestamps import now_ms

from inbox_dev.capacity_meter import CapacityMeter, metering

if TYPE_CHECKING:
    from inbox.store import Store

SIZES = (10, 10_000)
INBOX = Listing()
ARCHIVE = Listing(status=Status.ARCHIVED)
UNREAD = Listing(unread_only=True)
MENTIONS = Listing(types=frozenset({NotificationType.MENTION, NotificationType.REPLY}))
# A flood window that began before every filled entry (November 2026): the whole inbox is in it.
FLOOD_WINDOW = 1_795_000_000


@dataclass(frozen=True)
class Consumed:
    read_units: float
    write_units: float
    requests: int


@dataclass(frozen=True)
class Budget:
    """At most this many read and write units (and requests, where the budget says)."""

    reads: float | None = None
    writes: float | None = None
    requests: int | None = None

    def holds(self, consumed: Consumed) -> bool:
        return (
            (self.reads is None or consumed.read_units <= self.reads)
            and (self.writes is None or consumed.write_units <= self.writes)
            and (self.requests is None or consumed.requests <= self.requests)
        )

    def __str__(self) -> str:
        parts = [f"≤ {self.reads:g} RCU"] if self.reads is not None else []
        parts += [f"≤ {self.writes:g} WCU"] if self.writes is not None else []
        text = " and ".join(parts)
        return f"{text} in ≤ {self.requests} requests" if self.requests else text


# The pipeline's budgets (docs/data-model.md); an unlike has none of its own and is held to a delete's.
BUDGETS = {
    "group_start": Budget(writes=3),
    "group_join": Budget(writes=4),
    "member_redelivered": Budget(writes=1),
    "store_mention": Budget(writes=3),
    "store_duplicate": Budget(writes=1),
    # Flood control writes nothing: it reads the recipient's window from the inbox index, at most
    # once per batch. A window with a few notifications, and one past the limit (a flood).
    "flood_window": Budget(reads=2, requests=1),
    "flood_window_flooded": Budget(reads=16, requests=3),
    "retract": Budget(writes=3),
    "list_20": Budget(reads=3, requests=2),
    "list_unread_20": Budget(reads=3, requests=2),
    "list_archived_20": Budget(reads=3, requests=2),
    "list_mentions_20": Budget(reads=2, requests=2),
    # The inbox's first page reads the counts' watermarks and newest entries itself: no request more
    # unless more are unread than a page holds.
    "open_inbox": Budget(reads=3 + 8, requests=2 + 1),
    "open_mentions": Budget(reads=2 + 8, requests=2 + 2),
    # POST /notifications/open: the inbox's opening read, and seen-all's write when something was unseen.
    "open_marking_seen": Budget(reads=3 + 8, writes=2, requests=2 + 1 + 1),
    "unread_count": Budget(reads=8),
    "counts": Budget(reads=8),
    "unseen_count_after_open": Budget(reads=1),
    "seen_all": Budget(writes=2),
    "seen_all_nothing_unseen": Budget(reads=1, writes=0),
    "mark_one_read": Budget(writes=3),
    # A mention or reply is also in the tabs index, which holds a copy of its read state: one more.
    "mark_read_mention": Budget(writes=4),
    "mark_unread": Budget(writes=3),
    "archive": Budget(writes=3),
    "unarchive": Budget(writes=3),
    "delete": Budget(writes=3),
    "mark_all_read": Budget(writes=2, requests=1),
    "clear_all": Budget(writes=2, requests=1),
}
# Every tenth entry of a filled inbox is a mention; every other one of the oldest few is archived.
MENTION_EVERY = 10
ARCHIVED = 25
SHOWN_ACTORS = ("ann", "ben", "cat")


def like(recipient: str, index: int, actor: str = "actor") -> NotificationEvent:
    """A like with a full actor and excerpt: the size of a typical notification."""
    return NotificationEvent(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        actor=Actor(
            id=f"{actor}-{index % 1000:03d}",
            username=f"{actor.title()} {index % 1000:03d}",
            avatar=f"https://cdn.example.com/avatars/{actor}-{index % 1000:03d}.png",
        ),
        resource=Resource(type="post", id=f"post-{index:06d}", excerpt="Shipping the inbox today, finally!"),
        occurred_at=datetime.now(UTC),
    )


def mention(recipient: str, index: int) -> NotificationEvent:
    liked = like(recipient, index)
    return liked.model_copy(update={"type": NotificationType.MENTION})


def like_entry(user: str, index: int, now_ms: int, ttl_seconds: int) -> dict[str, Any]:
    """The item of a like stored as an entry of its own, as a stream record carries it."""
    liked = like(user, index)
    return entry_item(liked, liked.notification_id, now_ms=now_ms, ttl_seconds=ttl_seconds)


def filled_item(user: str, index: int, now_ms: int) -> dict[str, Any]:
    """Entry ``index`` of a filled inbox: a group of three likes, or every tenth a mention; the oldest archived."""
    if index % MENTION_EVERY == MENTION_EVERY - 1:
        event = mention(user, index)
        return entry_item(event, event.notification_id, now_ms=now_ms, ttl_seconds=86_400)
    item = entry_item(like(user, index), hashed_id("filled", user, str(index)), now_ms=now_ms, ttl_seconds=86_400)
    actors = [actor_value(like(user, index, actor).actor) for actor in SHOWN_ACTORS]
    item.update({"a0": actors[0], "a1": actors[1], "a2": actors[2], "n": 3})
    if index < ARCHIVED and index % 2 == 0:
        item["g1pk"] = archived_partition(user)
    return item


def fill(store: Store, user: str, count: int) -> None:
    """Give ``user`` ``count`` unread, unseen entries (groups of three actors and mentions), written directly."""
    start = now_ms() - count - 60_000
    with store.table.batch_writer() as batch:
        for index in range(count):
            batch.put_item(Item=filled_item(user, index, start + index))


def consumed(meter: CapacityMeter, operation: Callable[[], Any]) -> Consumed:
    meter.reset()
    operation()
    return Consumed(meter.read_units, meter.write_units, meter.requests)


def measure_operations(store: Store, owner: str) -> dict[str, Consumed]:
    """Every inbox operation once, for ``owner``: reads of the filled inbox first, then writes."""
    queries = store.queries
    reader = InboxReader(queries)
    opener = InboxOpener(queries, store.watermarks)
    notifications, entries, watermarks = store.notifications, store.entries, store.watermarks
    first = like(owner, 10**6)
    joiner = like(owner, 10**6, actor="joiner")
    unliked = Retraction(
        type=first.type,
        recipient_id=owner,
        actor_id=first.actor.id,
        resource_type="post",
        resource_id=first.resource.id,
    )
    group_id = group_entry_id(owner, "like\x1fpost\x1f" + first.resource.id, 0)
    with metering(store.table.meta.client) as meter:
        figures = {
            # A listing's page alone (a cursor's next page costs as much), then the first page with the
            # counts, as a client opening the inbox or a tab reads it.
            "list_20": consumed(meter, lambda: queries.newest(owner, INBOX, 20, None)),
            "list_unread_20": consumed(meter, lambda: queries.newest(owner, UNREAD, 20, None)),
            "list_archived_20": consumed(meter, lambda: queries.newest(owner, ARCHIVE, 20, None)),
            "list_mentions_20": consumed(meter, lambda: queries.newest(owner, MENTIONS, 20, None)),
            "open_inbox": consumed(meter, lambda: reader.page(owner, limit=20)),
            "open_mentions": consumed(meter, lambda: reader.page(owner, limit=20, listing=MENTIONS)),
            "unread_count": consumed(meter, lambda: reader.unread_count(owner)),
            "counts": consumed(meter, lambda: reader.counts(owner)),
            "seen_all": consumed(meter, lambda: watermarks.seen_all(owner)),
            "seen_all_nothing_unseen": consumed(meter, lambda: watermarks.seen_all(owner)),
            "group_start": consumed(meter, lambda: notifications.add_to_group(first, group_id)),
            "group_join": consumed(meter, lambda: notifications.add_to_group(joiner, group_id)),
            "member_redelivered": consumed(meter, lambda: notifications.add_to_group(joiner, group_id)),
            "store_mention": consumed(meter, lambda: notifications.put(mention(owner, 10**6))),
            "store_duplicate": consumed(meter, lambda: notifications.put(mention(owner, 10**6))),
        }
        figures["unseen_count_after_open"] = consumed(meter, lambda: store.queries.unseen(owner))
        # The last half minute holds this group and mention, not the filled entries (a minute older).
        figures["flood_window"] = consumed(meter, lambda: store.flood.window(owner, int(time.time()) - 30, 500))
        figures["flood_window_flooded"] = consumed(meter, lambda: store.flood.window(owner, FLOOD_WINDOW, 500))
        # The group and the mention above are new since seen-all: the open marks them seen.
        figures["open_marking_seen"] = consumed(meter, lambda: opener.open(owner, limit=20))
        figures["retract"] = consumed(meter, lambda: notifications.retract(unliked))
        newest = reader.page(owner, limit=6).items
        groups = [item.id for item in newest if item.type is NotificationType.LIKE]
        [mentioned] = [item.id for item in newest if item.type is NotificationType.MENTION][:1]
        figures["mark_one_read"] = consumed(meter, lambda: entries.mark_read(owner, groups[0]))
        figures["mark_read_mention"] = consumed(meter, lambda: entries.mark_read(owner, mentioned))
        figures["mark_unread"] = consumed(meter, lambda: entries.mark_unread(owner, groups[0]))
        figures["archive"] = consumed(meter, lambda: entries.archive(owner, groups[1]))
        figures["unarchive"] = consumed(meter, lambda: entries.unarchive(owner, groups[1]))
        figures["delete"] = consumed(meter, lambda: entries.delete(owner, groups[2]))
        figures["mark_all_read"] = consumed(meter, lambda: watermarks.read_all(owner))
        figures["clear_all"] = consumed(meter, lambda: watermarks.clear_all(owner))
    return figures


def measure_sizes(store: Store, run: str) -> dict[int, dict[str, Consumed]]:
    """Every operation measured for the owner of an inbox of each size, filled first."""
    by_size = {}
    for size in SIZES:
        owner = f"{run}-capacity-{size}"
        fill(store, owner, size)
        by_size[size] = measure_operations(store, owner)
    return by_size


def measure(run: str = "bench") -> dict[str, Any]:
    """``capacity.<operation>.<size>``: units and requests, with the budget and whether it holds."""
    from inbox import wiring

    by_size = measure_sizes(wiring.store(), run)
    return {
        operation: {
            **{str(size): asdict(by_size[size][operation]) for size in SIZES},
            "budget": str(budget),
            "holds": all(budget.holds(by_size[size][operation]) for size in SIZES),
        }
        for operation, budget in BUDGETS.items()
    }
