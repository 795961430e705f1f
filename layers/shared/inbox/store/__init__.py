"""Data access: one table, one index, one module per aggregate (keys.py documents the layout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inbox.store.audience import AudienceStore
from inbox.store.connections import DEFAULT_MAX_PER_USER, ConnectionStore
from inbox.store.devices import DeviceStore
from inbox.store.digests import DigestScheduleStore
from inbox.store.entries import EntryStore
from inbox.store.flood import FloodWindowStore
from inbox.store.listing import InboxQueries
from inbox.store.notifications import NotificationStore
from inbox.store.preferences import PreferenceStore
from inbox.store.table import TableGateway
from inbox.store.watermarks import WatermarkStore

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class Store:
    """Every aggregate's access on one table."""

    table: Table
    notifications: NotificationStore  # ingest's writes: entries, groups, undone actions
    entries: EntryStore  # a user's changes to one entry
    watermarks: WatermarkStore  # read-all, seen-all, clear-all
    queries: InboxQueries  # listings and counts
    flood: FloodWindowStore  # flood control's reads of recipients' windows
    preferences: PreferenceStore
    connections: ConnectionStore
    devices: DeviceStore
    audience: AudienceStore  # the fan-out's read of a user's connections and devices together
    digests: DigestScheduleStore  # when each user's next email digest is due

    @classmethod
    def on(
        cls,
        table: Table,
        *,
        notification_ttl_seconds: int | Mapping[str, int],
        connection_ttl_seconds: int,
        region: str = "",
        max_connections_per_user: int = DEFAULT_MAX_PER_USER,
    ) -> Store:
        gateway = TableGateway(table)
        watermarks = WatermarkStore(gateway, region=region)
        connections = ConnectionStore(
            gateway, ttl_seconds=connection_ttl_seconds, max_per_user=max_connections_per_user
        )
        devices = DeviceStore(gateway)
        return cls(
            table=table,
            notifications=NotificationStore(gateway, ttl_seconds=notification_ttl_seconds, region=region),
            entries=EntryStore(gateway, watermarks, region=region),
            watermarks=watermarks,
            queries=InboxQueries(gateway, watermarks),
            flood=FloodWindowStore(gateway),
            preferences=PreferenceStore(gateway),
            connections=connections,
            devices=devices,
            audience=AudienceStore(gateway, connections, devices),
            digests=DigestScheduleStore(gateway),
        )
