"""What delivery needs from storage."""

from __future__ import annotations

from typing import Protocol

from inbox.models import Preferences, StoredDevice
from inbox.store.items import InboxState
from inbox.store.listing import StoredCounts


class PreferenceReader(Protocol):
    def get(self, user_id: str) -> Preferences: ...


class ConnectionDirectory(Protocol):
    def of(self, user_id: str) -> list[str]: ...

    def remove(self, user_id: str, connection_id: str) -> None: ...


class DeviceDirectory(Protocol):
    def of(self, user_id: str) -> list[StoredDevice]: ...

    def disable(self, user_id: str, device_id: str) -> None: ...


class LiveState(Protocol):
    def live(self, user_id: str) -> tuple[StoredCounts, InboxState]: ...


class PushClaims(Protocol):
    def record_push(self, user_id: str, entry_id: str, at_ms: int) -> None: ...
