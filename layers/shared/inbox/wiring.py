"""Objects built once per process from the settings: what each handler's module creates at cold start."""

from __future__ import annotations

from functools import lru_cache

from inbox import clients
from inbox.repository import Repository
from inbox.settings import table_settings


@lru_cache(maxsize=1)
def repository() -> Repository:
    settings = table_settings()
    return Repository(
        clients.dynamodb_table(settings.table_name),
        notification_ttl_seconds=settings.notification_ttl_seconds,
        connection_ttl_seconds=settings.connection_ttl_seconds,
        region=settings.region,
    )
