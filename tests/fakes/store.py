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


class InMemoryNotifications:
    """Notifications by id, "live" or "retracted"; ids in ``failing`` raise as a throttled write would."""

    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.failing: set[str] = set()
        self._lock = threading.Lock()

    def put(self, event: NotificationEvent) -> bool:
        with self._lock:
            if event.notification_id in self.failing:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
            if event.notification_id in self.stored:
                return False
            self.stored[event.notification_id] = "live"
            return True

    def retract(self, retraction: Retraction) -> bool:
        """A tombstone is left whether or not the notification was there; True when it was."""
        with self._lock:
            was_live = self.stored.get(retraction.notification_id) == "live"
            self.stored[retraction.notification_id] = "retracted"
            return was_live


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
