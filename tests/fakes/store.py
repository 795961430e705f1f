"""In-memory stores for unit tests of the ingest rules, thread-safe as the real ones are.

Each fake implements one Protocol of inbox.ingest.ports; mypy checks that they match.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from botocore.exceptions import ClientError
from inbox.ingest.ports import FloodCounters, NotificationWriter, PreferenceReader
from inbox.models import NotificationEvent, NotificationType, Preferences, Retraction
from inbox.store.flood import FloodCount
from inbox.store.notifications import Stored, Undone


class InMemoryNotifications:
    """Actions by id ("live" or "retracted") and groups by entry id (their member counts); actions in
    ``failing`` raise as a throttled write would."""

    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.groups: dict[str, int] = {}
        self.group_of: dict[str, str] = {}
        self.failing: set[str] = set()
        self._started: dict[str, int] = {}
        self._lock = threading.Lock()

    def put(self, event: NotificationEvent, *, at_ms: int | None = None) -> Stored:
        with self._lock:
            if event.notification_id in self.failing:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
            if event.notification_id in self.stored:
                return Stored.DUPLICATE
            self.stored[event.notification_id] = "live"
            return Stored.CREATED

    def add_to_group(self, event: NotificationEvent, entry_id: str, *, at_ms: int | None = None) -> Stored:
        first = self.put(event)
        if first is Stored.DUPLICATE:
            return first
        with self._lock:
            self.group_of[event.notification_id] = entry_id
            self._started.setdefault(entry_id, at_ms or 0)
            self.groups[entry_id] = self.groups.get(entry_id, 0) + 1
            return Stored.JOINED if self.groups[entry_id] > 1 else Stored.CREATED

    def group_started(self, user_id: str, entry_id: str) -> int | None:
        with self._lock:
            return self._started.get(entry_id)

    def retract(self, retraction: Retraction) -> Undone:
        """A tombstone is left whether or not the action was there."""
        with self._lock:
            state = self.stored.get(retraction.notification_id)
            self.stored[retraction.notification_id] = "retracted"
            if state == "retracted":
                return Undone.ALREADY
            if state is None:
                return Undone.AHEAD
            group = self.group_of.get(retraction.notification_id)
            if group is not None:
                self.groups[group] -= 1
            return Undone.RETRACTED


class InMemoryPreferences:
    """Muted types per user; every read is recorded, to count them."""

    def __init__(self, muted: dict[str, list[NotificationType]] | None = None) -> None:
        self.reads: list[str] = []
        self._muted = muted or {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> Preferences:
        with self._lock:
            self.reads.append(user_id)
        return Preferences(muted_types=self._muted.get(user_id, []))


class InMemoryFloodCounters:
    """The ids counted per (user, window, actor)."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, int, str], set[str]] = {}
        self._lock = threading.Lock()

    def total(self, user_id: str, window_start: int) -> int:
        with self._lock:
            return sum(
                len(ids)
                for (user, window, _), ids in self.counters.items()
                if (user, window) == (user_id, window_start)
            )

    def count(
        self, user_id: str, notification_id: str, actor_id: str, window_start: int, window_seconds: int, limit: int
    ) -> FloodCount:
        with self._lock:
            ids = self.counters.setdefault((user_id, window_start, actor_id), set())
            if notification_id in ids:
                return FloodCount.COUNTED_BEFORE
            if len(ids) >= limit:
                return FloodCount.OVER_LIMIT
            ids.add(notification_id)
            return FloodCount.COUNTED

    def counted(self, user_id: str, notification_id: str, actor_id: str, window_start: int) -> bool:
        with self._lock:
            return notification_id in self.counters.get((user_id, window_start, actor_id), set())


@dataclass
class InMemoryIngestStore:
    """What the Ingestor needs, in memory."""

    notifications: InMemoryNotifications = field(default_factory=InMemoryNotifications)
    preferences: InMemoryPreferences = field(default_factory=InMemoryPreferences)
    flood: InMemoryFloodCounters = field(default_factory=InMemoryFloodCounters)


# mypy holds each fake to its port.
_PORTS: tuple[type[NotificationWriter], type[PreferenceReader], type[FloodCounters]] = (
    InMemoryNotifications,
    InMemoryPreferences,
    InMemoryFloodCounters,
)
