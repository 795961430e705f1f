"""What delivery needs from storage."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from inbox.models import StoredDevice
from inbox.preferences.model import Preferences
from inbox.store.items import InboxState
from inbox.store.listing import StoredCounts


class PreferenceReader(Protocol):
    def get_many(self, user_ids: Collection[str]) -> Mapping[str, Preferences]: ...


class AudienceDirectory(Protocol):
    def of(self, user_id: str, *, connections: bool, devices: bool) -> tuple[list[str], list[StoredDevice]]: ...


class ConnectionDirectory(Protocol):
    def remove(self, user_id: str, connection_id: str) -> None: ...


class DeviceDirectory(Protocol):
    def disable(self, user_id: str, device_id: str) -> None: ...


class LiveState(Protocol):
    def live(self, user_id: str) -> tuple[StoredCounts, InboxState]: ...


class PushClaims(Protocol):
    def record_push(self, user_id: str, entry_id: str, at_ms: int) -> None: ...
