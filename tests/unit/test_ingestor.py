"""The ingest rules for a batch: recipients side by side, each recipient's events in order."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from inbox.ingest import EarlierEventFailed, Event, FloodLimits, Ingestor
from inbox.models import Actor, NotificationEvent, NotificationType, Preferences, Resource, Retraction


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


class InMemoryRepository:
    """The repository's ingest operations over a dict; ``failing`` stores raise as a throttled write would."""

    def __init__(self, *, muted: dict[str, list[NotificationType]] | None = None) -> None:
        self.stored: dict[str, str] = {}
        self.failing: set[str] = set()
        self.preference_reads: list[str] = []
        self.flood_counters: dict[tuple[str, int, str], set[str]] = {}
        self._muted = muted or {}
        self._lock = threading.Lock()

    def preferences(self, user_id: str) -> Preferences:
        with self._lock:
            self.preference_reads.append(user_id)
        return Preferences(muted_types=self._muted.get(user_id, []))

    def store(self, event: NotificationEvent) -> bool:
        with self._lock:
            if event.notification_id in self.failing:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
            if event.notification_id in self.stored:
                return False
            self.stored[event.notification_id] = "live"
            return True

    def flood_count(self, user_id: str, window_start: int) -> int:
        with self._lock:
            counters = self.flood_counters.items()
            return sum(len(ids) for (user, window, _), ids in counters if (user, window) == (user_id, window_start))

    def count_toward_flood_limit(
        self, user_id: str, notification_id: str, actor_id: str, window_start: int, window_seconds: int, limit: int
    ) -> str:
        with self._lock:
            ids = self.flood_counters.setdefault((user_id, window_start, actor_id), set())
            if notification_id in ids:
                return "counted_before"
            if len(ids) >= limit:
                return "over_limit"
            ids.add(notification_id)
            return "counted"

    def counted_toward_flood_limit(self, user_id: str, notification_id: str, actor_id: str, window_start: int) -> bool:
        with self._lock:
            return notification_id in self.flood_counters.get((user_id, window_start, actor_id), set())

    def retract(self, retraction: Retraction) -> bool:
        with self._lock:
            if self.stored.get(retraction.notification_id) != "live":
                return False
            self.stored[retraction.notification_id] = "retracted"
            return True


def ingest(
    repository: Any, *records: tuple[str, list[Event]], limits: FloodLimits | None = None, now: float = 0.0
) -> dict[str, Any]:
    return Ingestor(repository, concurrency=4, limits=limits, clock=lambda: now).apply_all(list(records))


def test_each_record_gets_the_outcome_of_each_of_its_events() -> None:
    # Given likes for two recipients, a redelivery, a self-like and an unlike
    repository = InMemoryRepository()

    # When the batch is applied
    outcomes = ingest(
        repository,
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
    repository = InMemoryRepository()
    repository.failing.add(like("bob", "alice").notification_id)

    # When the batch is applied
    outcomes = ingest(
        repository,
        ("r0", [like("bob", "alice")]),
        ("r1", [unlike("bob", "alice")]),
        ("r2", [like("carol", "dave")]),
        ("r3", [like("erin", "alice", post="p2")]),
    )

    # Then alice's records fail together, so that a retry applies the unlike after its like
    assert isinstance(outcomes["r0"], ClientError)
    assert isinstance(outcomes["r1"], EarlierEventFailed)
    assert isinstance(outcomes["r3"], EarlierEventFailed)
    assert like("erin", "alice", post="p2").notification_id not in repository.stored
    # And dave's like is stored
    assert outcomes["r2"] == ["created"]


def test_preferences_are_read_once_per_recipient_and_muted_types_are_not_stored() -> None:
    # Given alice mutes likes and the batch holds three likes for her and one for dave
    repository = InMemoryRepository(muted={"alice": [NotificationType.LIKE]})

    # When the batch is applied
    outcomes = ingest(
        repository,
        *((f"r{index}", [like(f"fan-{index}", "alice")]) for index in range(3)),
        ("r3", [like("bob", "dave")]),
    )

    # Then alice's likes are muted, dave's is stored, and each recipient's preferences were read once
    assert [outcomes[f"r{index}"] for index in range(3)] == [["muted"]] * 3
    assert outcomes["r3"] == ["created"]
    assert sorted(repository.preference_reads) == ["alice", "dave"]


class RendezvousRepository(InMemoryRepository):
    """Each store waits until a second store runs at the same time: sequential stores would time out."""

    def __init__(self) -> None:
        super().__init__()
        self.rendezvous = threading.Barrier(2, timeout=5)

    def store(self, event: NotificationEvent) -> bool:
        self.rendezvous.wait()
        return super().store(event)


def test_recipients_are_applied_side_by_side() -> None:
    # Given likes for twenty recipients, stored only when two stores run at once
    repository = RendezvousRepository()

    # When the batch is applied with four workers
    outcomes = ingest(repository, *((f"r{index}", [like("bob", f"user-{index}")]) for index in range(20)))

    # Then every like is stored: the stores overlapped
    assert all(outcome == ["created"] for outcome in outcomes.values())
    assert len(repository.stored) == 20


def test_an_actor_past_its_limit_is_dropped_and_others_still_notify() -> None:
    # Given a limit of 3 notifications per actor per window
    repository = InMemoryRepository()
    limits = FloodLimits(per_actor=3, per_recipient=100, window_seconds=3600)

    # When bob likes four of alice's posts and carol likes one
    outcomes = ingest(
        repository,
        *((f"r{index}", [like("bob", "alice", post=f"p{index}")]) for index in range(4)),
        ("r4", [like("carol", "alice")]),
        limits=limits,
    )

    # Then bob's first three are stored, the fourth is dropped, and carol's is stored
    assert [outcomes[f"r{index}"] for index in range(5)] == [["created"]] * 3 + [["flood_dropped"], ["created"]]


def test_a_recipient_past_the_window_total_is_dropped_until_the_next_window() -> None:
    # Given a limit of 5 notifications per recipient per window, 4 already counted in this one
    repository = InMemoryRepository()
    limits = FloodLimits(per_actor=10, per_recipient=5, window_seconds=3600)
    ingest(repository, *((f"e{index}", [like(f"fan-{index}", "alice")]) for index in range(4)), limits=limits)

    # When two more actors like her post in the same window, and one in the next window
    same_window = ingest(repository, ("r0", [like("bob", "alice")]), ("r1", [like("carol", "alice")]), limits=limits)
    next_window = ingest(repository, ("r2", [like("dave", "alice")]), limits=limits, now=3600.0)

    # Then the fifth is stored, the sixth dropped, and the next window starts afresh
    assert same_window == {"r0": ["created"], "r1": ["flood_dropped"]}
    assert next_window == {"r2": ["created"]}


def test_a_redelivered_event_is_admitted_again_not_counted_twice() -> None:
    # Given bob at the per-actor limit of 2, with his second like counted but not stored (a failed write)
    repository = InMemoryRepository()
    limits = FloodLimits(per_actor=2, per_recipient=2, window_seconds=3600)
    second = like("bob", "alice", post="p2")
    repository.failing.add(second.notification_id)
    first_delivery = ingest(repository, ("r0", [like("bob", "alice", post="p1")]), ("r1", [second]), limits=limits)
    repository.failing.clear()

    # When the failed record is redelivered
    redelivery = ingest(repository, ("r1", [second]), limits=limits)

    # Then it is stored: counting it again did not push bob (or alice's total) over the limit
    assert first_delivery["r0"] == ["created"]
    assert isinstance(first_delivery["r1"], ClientError)
    assert redelivery == {"r1": ["created"]}
