"""What ingest needs from storage."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from inbox.models import NotificationEvent, Retraction
from inbox.preferences.model import Preferences
from inbox.store.flood import FloodWindow
from inbox.store.notifications import Stored, Undone


class NotificationWriter(Protocol):
    def put(self, event: NotificationEvent, *, at_ms: int | None = None) -> Stored: ...

    def add_to_group(self, event: NotificationEvent, entry_id: str, *, at_ms: int | None = None) -> Stored: ...

    def group_started(self, user_id: str, entry_id: str) -> int | None: ...

    def group_starts(self, groups: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], int | None]: ...

    def retract(self, retraction: Retraction) -> Undone: ...


class PreferenceReader(Protocol):
    def get_many(self, user_ids: Collection[str]) -> Mapping[str, Preferences]: ...


class FloodWindows(Protocol):
    def window(self, user_id: str, window_start: int, enough: int) -> FloodWindow: ...
