"""Which entry an action joins: likes and reposts of one resource group per recipient, follows per
recipient; replies and mentions never group.

A group takes new members for a window from its first member; after that, a new member starts a
new group. Group ids are derived from the group and a window-sized bucket of time, so no lookup
table is needed: an action at time t joins the group of the previous bucket while that group is
open (its first member less than a window before t), else the group of t's own bucket.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

from inbox.models import NotificationEvent, NotificationType, hashed_id

GROUPED_BY_RESOURCE = frozenset({NotificationType.LIKE, NotificationType.REPOST})
GROUPED_BY_RECIPIENT = frozenset({NotificationType.FOLLOW})


class GroupStarts(Protocol):
    def group_started(self, user_id: str, entry_id: str) -> int | None: ...

    def group_starts(self, groups: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], int | None]: ...


def group_key(event: NotificationEvent) -> str | None:
    """What an action groups by, or None for an action that is an entry of its own."""
    if event.type in GROUPED_BY_RESOURCE:
        return f"{event.type.value}\x1f{event.resource.type}\x1f{event.resource.id}"
    if event.type in GROUPED_BY_RECIPIENT:
        return event.type.value
    return None


def group_entry_id(recipient_id: str, key: str, bucket: int) -> str:
    return hashed_id("group", recipient_id, key, str(bucket))


def previous_group(recipient_id: str, key: str, now_ms: int, window_ms: int) -> str:
    """The group of the bucket before ``now_ms``'s: the one an action joins while it is open."""
    return group_entry_id(recipient_id, key, now_ms // window_ms - 1)


def lookups(events: Iterable[NotificationEvent], now_ms: int, window_ms: int) -> set[tuple[str, str]]:
    """The (recipient, group) starts a batch's grouped actions will ask for, to read them at once."""
    wanted = set()
    for event in events:
        key = group_key(event)
        if key is not None:
            wanted.add((event.recipient_id, previous_group(event.recipient_id, key, now_ms, window_ms)))
    return wanted


class Groups:
    """One recipient's open groups while a batch is applied: each previous bucket is looked up once,
    most of them before, with the whole batch's (``known``)."""

    def __init__(
        self, starts: GroupStarts, recipient_id: str, window_ms: int, known: Mapping[str, int | None] | None = None
    ) -> None:
        self._starts = starts
        self._recipient_id = recipient_id
        self._window_ms = window_ms
        self._started: dict[str, int | None] = dict(known or {})

    def entry_for(self, key: str, now_ms: int) -> str:
        bucket = now_ms // self._window_ms
        previous = previous_group(self._recipient_id, key, now_ms, self._window_ms)
        if previous not in self._started:
            self._started[previous] = self._starts.group_started(self._recipient_id, previous)
        started = self._started[previous]
        if started is not None and now_ms < started + self._window_ms:
            return previous
        return group_entry_id(self._recipient_id, key, bucket)
