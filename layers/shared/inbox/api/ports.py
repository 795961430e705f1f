"""What the HTTP API needs from storage."""

from __future__ import annotations

from typing import Protocol

from inbox.models import Device, StoredDevice
from inbox.store.notifications import ListPosition, StoredCount, StoredPage


class NotificationReader(Protocol):
    def newest(self, user_id: str, limit: int, after: ListPosition | None) -> StoredPage: ...

    def newest_unread(self, user_id: str, limit: int, after: ListPosition | None) -> StoredPage: ...

    def count_unread(self, user_id: str) -> StoredCount: ...


class DeviceRecords(Protocol):
    def put(self, user_id: str, device: Device, endpoint_arn: str) -> None: ...

    def get(self, user_id: str, device_id: str) -> StoredDevice | None: ...

    def delete(self, user_id: str, device_id: str) -> str: ...
