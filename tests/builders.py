"""Entries as clients see them, built for tests of what is shown and sent."""

from __future__ import annotations

from datetime import UTC, datetime

from inbox.models import Actor, Notification, NotificationType, Resource

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
