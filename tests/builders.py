"""Entries and preferences as clients see them, built for tests of what is shown and sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from inbox.models import Actor, Notification, NotificationType, Resource
from inbox.preferences.model import Preferences, PreferencesUpdate

AT = datetime(2026, 11, 23, tzinfo=UTC)


def entry(
    excerpt: str | None = None,
    *,
    kind: NotificationType = NotificationType.REPLY,
    actors: tuple[str, ...] = ("Bob",),
    count: int | None = None,
    entry_id: str = "a" * 26,
) -> Notification:
    """An unread entry of ``actors`` (usernames, newest first), ``count`` of them in all."""
    shown = [Actor(id=name.lower(), username=name) for name in actors]
    return Notification(
        id=entry_id,
        type=kind,
        actor=shown[0],
        actors=shown,
        actor_count=count or len(shown),
        resource=Resource(type="post", id="p1", excerpt=excerpt),
        created_at=AT,
        updated_at=AT,
        occurred_at=AT,
        read=False,
        seen=False,
        archived=False,
    )


def preferences(**document: Any) -> Preferences:
    """Preferences as ``PUT /preferences`` with ``document`` (camelCase, as clients send it) saves them."""
    return Preferences.from_update(PreferencesUpdate.model_validate(document), None)


def preference_document(**document: Any) -> dict[str, Any]:
    """What ``GET /preferences`` shows after that PUT."""
    return preferences(**document).model_dump(mode="json", by_alias=True)
