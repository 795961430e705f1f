"""What ingest needs from storage."""

from __future__ import annotations

from typing import Protocol

from inbox.models import NotificationEvent, Preferences, Retraction
from inbox.store.flood import FloodCount
from inbox.store.notifications import Stored, Undone


class NotificationWriter(Protocol):
    def put(self, event: NotificationEvent, *, at_ms: int | None = None) -> Stored: ...

    def add_to_group(self, event: NotificationEvent, entry_id: str, *, at_ms: int | None = None) -> Stored: ...

    def group_started(self, user_id: str, entry_id: str) -> int | None: ...

    def retract(self, retraction: Retraction) -> Undone: ...


class PreferenceReader(Protocol):
    def get(self, user_id: str) -> Preferences: ...


class FloodCounters(Protocol):
    def total(self, user_id: str, window_start: int) -> int: ...

    def count(
        self, user_id: str, notification_id: str, actor_id: str, window_start: int, window_seconds: int, limit: int
    ) -> FloodCount: ...

    def counted(self, user_id: str, notification_id: str, actor_id: str, window_start: int) -> bool: ...
