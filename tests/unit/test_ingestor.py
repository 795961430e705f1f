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


def test_preferences_are_read_once_per_recipient_and_muted_types_are_not_stored() -> None:
    # Given alice mutes likes and the batch holds three likes for her and one for dave
    store = InMemoryIngestStore(preferences=InMemoryPreferences(muted={"alice": [NotificationType.LIKE]}))

    # When the batch is applied
    outcomes = ingest(
        store,
        *((f"r{index}", [like(f"fan-{index}", "alice")]) for index in range(3)),
        ("r3", [like("bob", "dave")]),
    )

    # Then alice's likes are muted, dave's is stored, and each recipient's preferences were read once
    assert [outcomes[f"r{index}"] for index in range(3)] == [["muted"]] * 3
    assert outcomes["r3"] == ["created"]
    assert sorted(store.preferences.reads) == ["alice", "dave"]


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
    # Given a limit of 5 notifications per recipient per window, 4 already counted in this one
    store = InMemoryIngestStore()
    limits = FloodLimits(per_actor=10, per_recipient=5, window_seconds=3600)
    ingest(store, *((f"e{index}", [like(f"fan-{index}", "alice")]) for index in range(4)), limits=limits)

    # When two more actors like her post in the same window, and one in the next window
    same_window = ingest(store, ("r0", [like("bob", "alice")]), ("r1", [like("carol", "alice")]), limits=limits)
    next_window = ingest(store, ("r2", [like("dave", "alice")]), limits=limits, now=3600.0)

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
