"""Objects built once per process from the settings: what each handler's module creates at cold start."""

from __future__ import annotations

from functools import lru_cache

from inbox import aws_clients
from inbox.settings import table_settings
from inbox.store import Store


@lru_cache(maxsize=1)
def store() -> Store:
    settings = table_settings()
    return Store.on(
        aws_clients.dynamodb_table(settings.table_name),
        notification_ttl_seconds=settings.notification_ttl_seconds_by_type,
        connection_ttl_seconds=settings.connection_ttl_seconds,
        region=settings.region,
        max_connections_per_user=settings.max_connections_per_user,
    )
