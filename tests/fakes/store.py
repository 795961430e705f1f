"""In-memory stores for unit tests of the ingest rules, thread-safe as the real ones are.

Each fake implements one Protocol of inbox.ingest.ports; mypy checks that they match.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field

from botocore.exceptions import ClientError
from inbox.ingest.ports import FloodWindows, NotificationWriter, PreferenceReader
from inbox.models import NotificationEvent, NotificationType, Retraction
from inbox.preferences.model import Preferences, PreferencesUpdate
from inbox.store.flood import FloodWindow
from inbox.store.notifications import Stored, Undone


class InMemoryNotifications:
    """Actions by id ("live" or "retracted") and groups by entry id (their member counts); actions in
    ``failing`` raise as a throttled write would. ``arrivals``: (recipient, actor, ms, id) of each stored action."""

    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.groups: dict[str, int] = {}
        self.group_of: dict[str, str] = {}
        self.failing: set[str] = set()
        self.arrivals: list[tuple[str, str, int, str]] = []
        self.lookups: list[str] = []  # group starts asked one by one
        self.batch_lookups: list[int] = []  # the size of each batch of group starts asked at once
        self._started: dict[str, int] = {}
        self._lock = threading.Lock()

    def put(self, event: NotificationEvent, *, at_ms: int | None = None) -> Stored:
        with self._lock:
            if event.notification_id in self.failing:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "PutItem")
            if event.notification_id in self.stored:
                return Stored.DUPLICATE
            self.stored[event.notification_id] = "live"
            self.arrivals.append((event.recipient_id, event.actor.id, at_ms or 0, event.notification_id))
            return Stored.CREATED

    def add_to_group(self, event: NotificationEvent, entry_id: str, *, at_ms: int | None = None) -> Stored:
        first = self.put(event, at_ms=at_ms)
        if first is Stored.DUPLICATE:
            return first
        with self._lock:
            self.group_of[event.notification_id] = entry_id
            self._started.setdefault(entry_id, at_ms or 0)
            self.groups[entry_id] = self.groups.get(entry_id, 0) + 1
            return Stored.JOINED if self.groups[entry_id] > 1 else Stored.CREATED

    def group_started(self, user_id: str, entry_id: str) -> int | None:
        with self._lock:
            self.lookups.append(entry_id)
            return self._started.get(entry_id)

    def group_starts(self, groups: Collection[tuple[str, str]]) -> dict[tuple[str, str], int | None]:
        with self._lock:
            self.batch_lookups.append(len(groups))
            return {(user, entry_id): self._started.get(entry_id) for user, entry_id in groups}

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
    """Types whose inbox is off, per user; every batch read is recorded, to count them."""

    def __init__(self, muted: dict[str, list[NotificationType]] | None = None) -> None:
        self.reads: list[list[str]] = []
        self._muted = muted or {}
        self._lock = threading.Lock()

    def get_many(self, user_ids: Collection[str]) -> dict[str, Preferences]:
        with self._lock:
            self.reads.append(sorted(user_ids))
        return {
            user: Preferences.from_update(PreferencesUpdate(muted_types=self._muted.get(user, [])), None)
            for user in user_ids
        }


class InMemoryFloodWindows:
    """Each recipient's window counted from the live actions stored in it; every read is recorded."""

    def __init__(self, notifications: InMemoryNotifications) -> None:
        self.reads: list[tuple[str, int]] = []
        self._notifications = notifications
        self._lock = threading.Lock()

    def window(self, user_id: str, window_start: int, enough: int) -> FloodWindow:
        with self._lock:
            self.reads.append((user_id, window_start))
        by_actor: dict[str, int] = {}
        for recipient, actor, at_ms, notification_id in list(self._notifications.arrivals):
            live = self._notifications.stored.get(notification_id) == "live"
            if recipient == user_id and at_ms >= window_start * 1000 and live:
                by_actor[actor] = by_actor.get(actor, 0) + 1
        return FloodWindow(sum(by_actor.values()), by_actor)


@dataclass
class InMemoryIngestStore:
    """What the Ingestor needs, in memory."""

    notifications: InMemoryNotifications = field(default_factory=InMemoryNotifications)
    preferences: InMemoryPreferences = field(default_factory=InMemoryPreferences)
    flood: InMemoryFloodWindows = field(init=False)

    def __post_init__(self) -> None:
        self.flood = InMemoryFloodWindows(self.notifications)


# mypy holds each fake to its port.
_PORTS: tuple[type[NotificationWriter], type[PreferenceReader], type[FloodWindows]] = (
    InMemoryNotifications,
    InMemoryPreferences,
    InMemoryFloodWindows,
)
