"""Domain models: the canonical event every producer maps to, and the shapes clients see.

A notification has one shape wherever it is shown: the HTTP API, the WebSocket
message and the data of a mobile push all serialise `Notification`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

from inbox.timestamps import iso_z

# Previews are for a glance at the inbox, not the post itself; longer text is cut here so that
# items stay small (capacity is billed by size) and every delivery channel fits its limits.
EXCERPT_MAX_CHARS = 280
# A group shows its newest actors; actorCount says how many there are.
GROUP_SHOWN_ACTORS = 3

UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
UtcDatetime = Annotated[datetime, PlainSerializer(iso_z)]


class NotificationType(StrEnum):
    LIKE = "like"
    FOLLOW = "follow"
    REPLY = "reply"
    REPOST = "repost"
    MENTION = "mention"


class ApiModel(BaseModel):
    """Base for the shapes clients see: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Actor(ApiModel):
    id: UserId
    username: str | None = Field(default=None, max_length=128)
    avatar: str | None = Field(default=None, max_length=2048)


class Resource(ApiModel):
    type: Annotated[str, StringConstraints(to_lower=True, min_length=1, max_length=32)]
    id: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    excerpt: str | None = None


class Notification(ApiModel):
    """An inbox entry: one action, or a group of like actions ("Alice, Bob and 3 others liked your post")."""

    id: str
    type: NotificationType
    actor: Actor  # the newest actor, as in entries of one action
    actors: list[Actor]  # up to GROUP_SHOWN_ACTORS, newest first
    actor_count: int
    resource: Resource
    created_at: UtcDatetime  # when the entry arrived
    updated_at: UtcDatetime  # when it arrived or last changed its actors: the listing's order
    occurred_at: UtcDatetime  # the producer's own time of the newest action
    read: bool
    seen: bool
    archived: bool


def fit_excerpt(notification: Notification, size: Callable[[Notification], int], limit: int) -> Notification:
    """The notification with its excerpt shortened (ending in "…") just enough for ``size`` to be within ``limit``.

    Every delivery channel has a size limit: a WebSocket message, a push payload. The excerpt is
    the part that can be cut without losing the notification, so a notification too large for a
    channel is trimmed, never dropped. If it does not fit even without its excerpt, it is returned
    without one and the caller's own size check has the last word.
    """
    excerpt = notification.resource.excerpt
    if not excerpt or size(notification) <= limit:
        return notification

    def with_excerpt(chars: int) -> Notification:
        shorter = excerpt[: chars - 1] + "…" if chars else None
        return notification.model_copy(
            update={"resource": notification.resource.model_copy(update={"excerpt": shorter})}
        )

    # The longest excerpt that fits: the size grows with the excerpt, so a binary search finds it.
    fits, too_long = 0, len(excerpt) + 1
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if size(with_excerpt(middle)) <= limit:
            fits = middle
        else:
            too_long = middle
    return with_excerpt(fits)


class NotificationPage(ApiModel):
    items: list[Notification]
    next_cursor: str | None


class UnreadCount(ApiModel):
    count: int
    capped: bool


class Counts(ApiModel):
    """The badge's figures, each exact up to 99; capped when either is "99 or more"."""

    unread: int
    unseen: int
    capped: bool


class InboxPage(NotificationPage):
    """A page of a listing; the first page also carries the badge's counts, so that opening the
    inbox is one request (null on the pages a cursor reaches)."""

    counts: Counts | None


class LiveCounts(ApiModel):
    """The counts every WebSocket message carries."""

    unread: int
    unseen: int


Platform = Literal["apns", "apns_sandbox", "fcm"]


class DeviceRegistration(ApiModel):
    platform: Platform
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=4096)]


class Device(ApiModel):
    id: str
    platform: Platform
    enabled: bool
    created_at: UtcDatetime


class StoredDevice(BaseModel):
    """A device as the fan-out needs it: the SNS endpoint is never shown to clients."""

    device: Device
    endpoint_arn: str


class NotificationEvent(BaseModel):
    """The canonical event: one recipient to notify of one action."""

    model_config = ConfigDict(frozen=True)

    type: NotificationType
    recipient_id: UserId
    actor: Actor
    resource: Resource
    occurred_at: datetime

    @property
    def notification_id(self) -> str:
        """Deterministic id of the action, so that any redelivery lands on the same item."""
        return action_id(self.type, self.actor.id, self.resource.type, self.resource.id, self.recipient_id)

    @property
    def is_self_action(self) -> bool:
        return self.actor.id == self.recipient_id


class Retraction(BaseModel):
    """An undone action (an unlike): the notification it caused goes away if it is still there."""

    model_config = ConfigDict(frozen=True)

    type: NotificationType
    recipient_id: UserId
    actor_id: UserId
    resource_type: str
    resource_id: str

    @property
    def notification_id(self) -> str:
        return action_id(self.type, self.actor_id, self.resource_type, self.resource_id, self.recipient_id)


def action_id(kind: str, actor_id: str, resource_type: str, resource_id: str, recipient_id: str) -> str:
    return hashed_id(kind, actor_id, resource_type.lower(), resource_id, recipient_id)


def hashed_id(*parts: str) -> str:
    """128 bits of SHA-256 in base32: collision-free in practice, URL-safe, fixed length (26 chars)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=").lower()
