"""What the HTTP API and the socket's sync need from storage."""

from __future__ import annotations

from typing import Protocol

from inbox.models import Device, StoredDevice
from inbox.store.listing import Listing, ListPosition, StoredCounts, StoredPage


class InboxQueriesPort(Protocol):
    def newest(
        self, user_id: str, listing: Listing, limit: int, after: ListPosition | None, since_ms: int = 0
    ) -> StoredPage: ...

    def opening(self, user_id: str, listing: Listing, limit: int) -> tuple[StoredPage, StoredCounts]: ...

    def counts(self, user_id: str) -> StoredCounts: ...


class DeviceRecords(Protocol):
    def put(self, user_id: str, device: Device, endpoint_arn: str) -> None: ...

    def get(self, user_id: str, device_id: str) -> StoredDevice | None: ...

    def delete(self, user_id: str, device_id: str) -> str: ...


class SeenWatermark(Protocol):
    def see_up_to(self, user_id: str, at_ms: int) -> None: ...
