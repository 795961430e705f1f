"""Data access: one table, one index, one module per aggregate (keys.py documents the layout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inbox.store.connections import ConnectionStore
from inbox.store.devices import DeviceStore
from inbox.store.flood import FloodCounterStore
from inbox.store.notifications import NotificationStore
from inbox.store.preferences import PreferenceStore
from inbox.store.table import TableGateway

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass(frozen=True)
class Store:
    """Every aggregate's access on one table."""

    table: Table
    notifications: NotificationStore
    flood: FloodCounterStore
    preferences: PreferenceStore
    connections: ConnectionStore
    devices: DeviceStore

    @classmethod
    def on(cls, table: Table, *, notification_ttl_seconds: int, connection_ttl_seconds: int, region: str = "") -> Store:
        gateway = TableGateway(table)
        return cls(
            table=table,
            notifications=NotificationStore(gateway, ttl_seconds=notification_ttl_seconds, region=region),
            flood=FloodCounterStore(gateway),
            preferences=PreferenceStore(gateway),
            connections=ConnectionStore(gateway, ttl_seconds=connection_ttl_seconds),
            devices=DeviceStore(gateway),
        )
