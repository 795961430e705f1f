"""Grouped entries on DynamoDB Local: likes of one post are one entry, counted exactly once per action."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from inbox.api.reader import InboxReader
from inbox.ingest.ingestor import Event, Ingestor, RecordOutcome
from inbox.models import Actor, NotificationEvent, NotificationType, Resource, Retraction
from inbox.store import Store
from inbox.store.keys import ItemKind, key
from inbox_dev.capacity_meter import CapacityMeter

DAY = 86_400
T0 = 1_795_000_000.0  # a fixed clock, in seconds


def like(actor: str, recipient: str, post: str = "post-1") -> NotificationEvent:
    return NotificationEvent(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        actor=Actor(id=actor, username=actor.title()),
        resource=Resource(type="post", id=post, excerpt="my post"),
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def unlike(actor: str, recipient: str, post: str = "post-1") -> Retraction:
    return Retraction(
        type=NotificationType.LIKE, recipient_id=recipient, actor_id=actor, resource_type="post", resource_id=post
    )


def ingestor(store: Store, at: float = T0) -> Ingestor:
    return Ingestor(store.notifications, store.preferences, store.flood, 8, clock=lambda: at)


def apply(store: Store, events: list[Event], at: float = T0) -> dict[str, RecordOutcome]:
    return ingestor(store, at).apply_all([(f"r{index}", [event]) for index, event in enumerate(events)])


def test_a_thousand_likes_in_parallel_batches_are_one_entry_counted_exactly_once(
    store: Store, reader: InboxReader, user: str
) -> None:
    # Given 1,000 likes of one post from 1,000 actors, split into 10 batches
    likes = [like(f"fan-{index:04d}", user) for index in range(1000)]
    batches = [likes[index::10] for index in range(10)]

    # When the 10 batches are applied at the same time, as 10 partitions' invocations would
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda batch: apply(store, list(batch)), batches))

    # Then the inbox holds one entry of 1,000 actors, the newest three shown
    [entry] = reader.page(user, limit=20).items
    assert (entry.type, entry.actor_count, len(entry.actors)) == (NotificationType.LIKE, 1000, 3)
    # And redelivering every batch changes nothing
    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda batch: apply(store, list(batch)), batches))
    results = {
        result for outcome in outcomes for record in outcome.values() if isinstance(record, list) for result in record
    }
    # (the window now holds 1,000 of her notifications, past the flood limit of 500: a redelivery is
    # dropped before its write, or found a duplicate by it; either way nothing is stored again)
    assert results <= {"duplicate", "flood_dropped"}
    assert reader.page(user, limit=20).items[0].actor_count == 1000
    # And 10 unlikes leave 990, none of the unliked actors shown
    unliked = [f"fan-{index:04d}" for index in range(990, 1000)]
    apply(store, [unlike(actor, user) for actor in unliked])
    [after] = reader.page(user, limit=20).items
    assert after.actor_count == 990
    assert not {actor.id for actor in after.actors} & set(unliked)


def test_a_group_stays_small_however_many_join(store: Store, user: str) -> None:
    # Given 300 likes of one post
    apply(store, [like(f"fan-{index:04d}-with-a-long-name", user) for index in range(300)])

    # When its item is read as stored
    [entry_id] = [item.id for item in InboxReader(store.queries).page(user, limit=5).items]
    item = store.table.get_item(Key=key(user, ItemKind.NOTIFICATION, entry_id))["Item"]

    # Then it is under 1 KB: the count is a number, and only three actors are kept
    assert len(str(item).encode()) < 1024
    assert item["n"] == 300


def test_a_group_takes_members_for_its_window_from_its_first_member(
    store: Store, reader: InboxReader, user: str
) -> None:
    # Given ann's like starts a group late in a day-sized bucket
    first = T0 - T0 % DAY + DAY - 60
    apply(store, [like("ann", user)], at=first)

    # When ben likes the post in the next bucket, a minute before the group's window ends,
    # and cat a minute after it
    apply(store, [like("ben", user)], at=first + DAY - 60)
    apply(store, [like("cat", user)], at=first + DAY + 60)

    # Then ann and ben are one entry, and cat starts a new one, listed first
    entries = reader.page(user, limit=20).items
    assert [[actor.id for actor in entry.actors] for entry in entries] == [["cat"], ["ben", "ann"]]
    assert [entry.actor_count for entry in entries] == [1, 2]


def test_follows_group_per_recipient_and_replies_never_group(store: Store, reader: InboxReader, user: str) -> None:
    # Given two follows and two replies to the same post
    follow = [
        NotificationEvent(
            type=NotificationType.FOLLOW,
            recipient_id=user,
            actor=Actor(id=name, username=name.title()),
            resource=Resource(type="user", id=user),
            occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
        )
        for name in ("ann", "ben")
    ]
    replies = [
        event.model_copy(update={"type": NotificationType.REPLY}) for event in (like("cat", user), like("dan", user))
    ]

    # When they are applied
    apply(store, [*follow, *replies])

    # Then the follows are one entry of two, and each reply is its own
    entries = reader.page(user, limit=20).items
    by_type = sorted((entry.type.value, entry.actor_count) for entry in entries)
    assert by_type == [("follow", 2), ("reply", 1), ("reply", 1)]


def test_a_growing_group_moves_to_the_top_unread_and_unseen_again(store: Store, reader: InboxReader, user: str) -> None:
    # Given a like of post-1, then a mention, and the user has read everything and opened the inbox
    now = time.time()
    apply(store, [like("ann", user)], at=now - 2)
    apply(store, [like("bob", user, post="post-2").model_copy(update={"type": NotificationType.MENTION})], at=now - 1)
    store.watermarks.read_all(user)
    store.watermarks.seen_all(user)
    assert reader.counts(user).model_dump() == {"unread": 0, "unseen": 0, "capped": False}

    # When a second like of post-1 arrives
    apply(store, [like("cat", user)], at=time.time() + 1)

    # Then its group is first again, unread and unseen, and the counts say so
    first, second = reader.page(user, limit=20).items
    assert (first.type, first.actor_count, first.read, first.seen) == (NotificationType.LIKE, 2, False, False)
    assert first.updated_at > second.updated_at
    assert first.created_at < second.created_at
    assert reader.counts(user).model_dump() == {"unread": 1, "unseen": 1, "capped": False}


def test_a_like_after_its_unlike_stays_silent_even_inside_a_group(store: Store, reader: InboxReader, user: str) -> None:
    # Given ann and ben like the post, and ann unlikes it
    apply(store, [like("ann", user), like("ben", user)])
    apply(store, [unlike("ann", user)])

    # When ann likes it again
    outcome = apply(store, [like("ann", user)])

    # Then it is a duplicate: the group still counts ben alone
    assert outcome == {"r0": ["duplicate"]}
    [entry] = reader.page(user, limit=20).items
    assert ([actor.id for actor in entry.actors], entry.actor_count) == (["ben"], 1)


def test_the_last_unlike_removes_the_entry(store: Store, reader: InboxReader, user: str) -> None:
    # Given one like, when it is undone, then the inbox is empty and nothing is unread
    apply(store, [like("ann", user)])
    apply(store, [unlike("ann", user)])
    assert reader.page(user, limit=20).items == []
    assert reader.counts(user).unread == 0


def test_joining_a_group_is_within_its_write_budgets(store: Store, meter: CapacityMeter, user: str) -> None:
    # Given a like that starts a group, one that joins it, and a redelivery
    meter.reset()
    apply(store, [like("ann", user)], at=T0)
    started = meter.write_units
    meter.reset()
    apply(store, [like("ben", user)], at=T0 + 1)
    joined = meter.write_units
    meter.reset()
    apply(store, [like("ben", user)], at=T0 + 2)
    redelivered = meter.write_units

    # Then starting costs 3 write units, joining 4, a redelivery at most 1 (flood control writes nothing)
    assert (started, joined) == (3, 4)
    assert redelivered <= 1
