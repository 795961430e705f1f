"""The ingest rules for a batch: recipients side by side, each recipient's events in order."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from botocore.exceptions import ClientError
from inbox.ingest.flood import FloodLimits
from inbox.ingest.ingestor import EarlierEventFailed, Event, Ingestor, RecordOutcome
from inbox.models import Actor, NotificationEvent, NotificationType, Resource, Retraction
from inbox.store.notifications import Stored

from tests.fakes.store import InMemoryIngestStore, InMemoryNotifications, InMemoryPreferences


def like(actor: str, recipient: str, post: str = "p1") -> NotificationEvent:
    return NotificationEvent(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        actor=Actor(id=actor),
        resource=Resource(type="post", id=post),
        occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def unlike(actor: str, recipient: str, post: str = "p1") -> Retraction:
    return Retraction(
        type=NotificationType.LIKE, recipient_id=recipient, actor_id=actor, resource_type="post", resource_id=post
    )


def ingest(
    store: InMemoryIngestStore,
    *records: tuple[str, Sequence[Event]],
    limits: FloodLimits | None = None,
    now: float = 0.0,
) -> dict[str, RecordOutcome]:
    ingestor = Ingestor(
        store.notifications, store.preferences, store.flood, concurrency=4, limits=limits, clock=lambda: now
    )
    return ingestor.apply_all([(key, list(events)) for key, events in records])


def test_each_record_gets_the_outcome_of_each_of_its_events() -> None:
    # Given likes for two recipients, a redelivery, a self-like and an unlike
    store = InMemoryIngestStore()

    # When the batch is applied
    outcomes = ingest(
        store,
        ("r0", [like("bob", "alice")]),
        ("r1", [like("carol", "dave")]),
        ("r2", [like("bob", "alice")]),
        ("r3", [like("alice", "alice")]),
        ("r4", [unlike("carol", "dave")]),
    )

    # Then every record has its outcome, in order per recipient
    assert outcomes == {
        "r0": ["created"],
        "r1": ["created"],
        "r2": ["duplicate"],
        "r3": ["self_action"],
        "r4": ["retracted"],
    }


def test_a_failed_event_holds_back_its_recipients_later_events_but_no_one_elses() -> None:
    # Given alice's first like fails (throttled), then its unlike and another like follow; dave's like too
    store = InMemoryIngestStore()
    store.notifications.failing.add(like("bob", "alice").notification_id)

    # When the batch is applied
    outcomes = ingest(
        store,
        ("r0", [like("bob", "alice")]),
        ("r1", [unlike("bob", "alice")]),
        ("r2", [like("carol", "dave")]),
        ("r3", [like("erin", "alice", post="p2")]),
    )

    # Then alice's records fail together, so that a retry applies the unlike after its like
    assert isinstance(outcomes["r0"], ClientError)
    assert isinstance(outcomes["r1"], EarlierEventFailed)
    assert isinstance(outcomes["r3"], EarlierEventFailed)
    assert like("erin", "alice", post="p2").notification_id not in store.notifications.stored
    # And dave's like is stored
    assert outcomes["r2"] == ["created"]


def test_preferences_are_read_once_per_batch_and_muted_types_are_not_stored() -> None:
    # Given alice mutes likes and the batch holds three likes for her and one for dave
    store = InMemoryIngestStore(preferences=InMemoryPreferences(muted={"alice": [NotificationType.LIKE]}))

    # When the batch is applied
    outcomes = ingest(
        store,
        *((f"r{index}", [like(f"fan-{index}", "alice")]) for index in range(3)),
        ("r3", [like("bob", "dave")]),
    )

    # Then alice's likes are muted, dave's is stored, and both recipients' preferences were read in one request
    assert [outcomes[f"r{index}"] for index in range(3)] == [["muted"]] * 3
    assert outcomes["r3"] == ["created"]
    assert store.preferences.reads == [["alice", "dave"]]


class RendezvousNotifications(InMemoryNotifications):
    """Each put waits until a second put runs at the same time: sequential puts would time out."""

    def __init__(self) -> None:
        super().__init__()
        self.rendezvous = threading.Barrier(2, timeout=5)

    def add_to_group(self, event: NotificationEvent, entry_id: str, *, at_ms: int | None = None) -> Stored:
        self.rendezvous.wait()
        return super().add_to_group(event, entry_id, at_ms=at_ms)


def test_recipients_are_applied_side_by_side() -> None:
    # Given likes for twenty recipients, stored only when two stores run at once
    store = InMemoryIngestStore(notifications=RendezvousNotifications())

    # When the batch is applied with four workers
    outcomes = ingest(store, *((f"r{index}", [like("bob", f"user-{index}")]) for index in range(20)))

    # Then every like is stored: the stores overlapped
    assert all(outcome == ["created"] for outcome in outcomes.values())
    assert len(store.notifications.stored) == 20


def test_an_actor_past_its_limit_is_dropped_and_others_still_notify() -> None:
    # Given a limit of 3 notifications per actor per window
    store = InMemoryIngestStore()
    limits = FloodLimits(per_actor=3, per_recipient=100, window_seconds=3600)

    # When bob likes four of alice's posts and carol likes one
    outcomes = ingest(
        store,
        *((f"r{index}", [like("bob", "alice", post=f"p{index}")]) for index in range(4)),
        ("r4", [like("carol", "alice")]),
        limits=limits,
    )

    # Then bob's first three are stored, the fourth is dropped, and carol's joins bob's like of p1
    assert [outcomes[f"r{index}"] for index in range(5)] == [["created"]] * 3 + [["flood_dropped"], ["grouped"]]


def test_a_recipient_past_the_window_total_is_dropped_until_the_next_window() -> None:
    # Given a limit of 5 notifications per recipient per window, and a container that stored 4 in this one
    store = InMemoryIngestStore()
    limits = FloodLimits(per_actor=10, per_recipient=5, window_seconds=3600)
    ingestor = container(store, limits)
    ingestor.apply_all([(f"e{index}", [like(f"fan-{index}", "alice")]) for index in range(4)])

    # When two more actors like her post in the same window, and one in the next window
    same_window = ingestor.apply_all([("r0", [like("bob", "alice")]), ("r1", [like("carol", "alice")])])
    next_window = Ingestor(
        store.notifications, store.preferences, store.flood, concurrency=4, limits=limits, clock=lambda: 3600.0
    ).apply_all([("r2", [like("dave", "alice")])])

    # Then the fifth is stored (it joins the likes of her post), the sixth dropped, and the next
    # flood window starts afresh (its like joins the group, which takes members for a day)
    assert same_window == {"r0": ["grouped"], "r1": ["flood_dropped"]}
    assert next_window == {"r2": ["grouped"]}


def test_a_redelivered_event_is_admitted_again_not_counted_twice() -> None:
    # Given bob at the per-actor limit of 2, with his second like counted but not stored (a failed write)
    store = InMemoryIngestStore()
    limits = FloodLimits(per_actor=2, per_recipient=2, window_seconds=3600)
    second = like("bob", "alice", post="p2")
    store.notifications.failing.add(second.notification_id)
    first_delivery = ingest(store, ("r0", [like("bob", "alice", post="p1")]), ("r1", [second]), limits=limits)
    store.notifications.failing.clear()

    # When the failed record is redelivered
    redelivery = ingest(store, ("r1", [second]), limits=limits)

    # Then it is stored: counting it again did not push bob (or alice's total) over the limit
    assert first_delivery["r0"] == ["created"]
    assert isinstance(first_delivery["r1"], ClientError)
    assert redelivery == {"r1": ["created"]}


def container(store: InMemoryIngestStore, limits: FloodLimits) -> Ingestor:
    """One ingest container: its Ingestor lives across batches."""
    return Ingestor(
        store.notifications, store.preferences, store.flood, concurrency=4, limits=limits, clock=lambda: 0.0
    )


def test_a_container_reads_no_window_of_a_recipient_far_from_the_limits() -> None:
    # Given one container and the default limits
    store = InMemoryIngestStore()
    ingestor = container(store, FloodLimits())

    # When three batches each bring alice a like from another fan
    outcomes = [
        ingestor.apply_all([(f"r{index}", [like(f"fan-{index}", "alice", post=f"p{index}")])]) for index in range(3)
    ]

    # Then all are stored, and her window was never read: no flood is in sight
    assert outcomes == [{f"r{index}": ["created"]} for index in range(3)]
    assert store.flood.reads == []


def test_past_half_a_limit_each_batch_reads_again_and_sees_what_other_containers_stored() -> None:
    # Given a limit of 4 per actor; one container stored two of bob's likes, another one two more
    store = InMemoryIngestStore()
    limits = FloodLimits(per_actor=4, per_recipient=100, window_seconds=3600)
    first, other = container(store, limits), container(store, limits)
    first.apply_all([(f"r{index}", [like("bob", "alice", post=f"p{index}")]) for index in range(2)])
    other.apply_all([(f"r{index}", [like("bob", "alice", post=f"p{index}")]) for index in range(2, 4)])
    reads_before = len(store.flood.reads)

    # When the first container gets bob's fifth like, which it knows at half his limit
    outcome = first.apply_all([("r4", [like("bob", "alice", post="p4")])])

    # Then it read alice's window again, found bob at his limit and dropped the like
    assert outcome == {"r4": ["flood_dropped"]}
    assert len(store.flood.reads) == reads_before + 1
    # And bob's next like is dropped without reading again: a limit reached stays reached in the window
    assert first.apply_all([("r5", [like("bob", "alice", post="p5")])]) == {"r5": ["flood_dropped"]}
    assert len(store.flood.reads) == reads_before + 1


def test_under_half_a_limit_a_container_does_not_see_what_another_stored_meanwhile() -> None:
    # Given a limit of 10 per actor: one container knows one like of bob's, another stored 9 more since
    store = InMemoryIngestStore()
    limits = FloodLimits(per_actor=10, per_recipient=100, window_seconds=3600)
    first, other = container(store, limits), container(store, limits)
    first.apply_all([("r0", [like("bob", "alice", post="p0")])])
    other.apply_all([(f"r{index}", [like("bob", "alice", post=f"p{index}")]) for index in range(1, 10)])

    # When the first container gets bob's eleventh like
    outcome = first.apply_all([("r10", [like("bob", "alice", post="p10")])])

    # Then it is admitted on what that container knows: the documented slip, at most half a limit per container
    assert outcome == {"r10": ["created"]}


def test_a_batchs_group_lookups_are_one_request_not_one_per_group() -> None:
    # Given a batch of likes of 30 posts of 3 recipients, and a repost
    store = InMemoryIngestStore()
    records = [
        (f"r{index}", [like(f"fan-{index}", f"author-{index % 3}", post=f"p{index % 30}")]) for index in range(60)
    ]

    # When it is applied
    outcomes = ingest(store, *records)

    # Then the groups' starts were asked once, all together, and none one by one
    assert all(outcome in (["created"], ["grouped"]) for outcome in outcomes.values())
    assert store.notifications.batch_lookups == [30]
    assert store.notifications.lookups == []
