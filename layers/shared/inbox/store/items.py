"""Items as stored and the models they stand for, in both directions.

Attribute names are short because capacity is billed by size. An entry: t type, rt/ri/x resource
type/id/excerpt, a0/a1/a2 the newest actors ({i: id, n: username, v: avatar}, null when fewer),
n actorCount, c createdAt (ms, arrival), u updatedAt (ms, arrival or last growth: the index
position), o occurredAt (ms, the producer's time of the newest action), r readAt (ms), ux marked
unread at (ms), lp last push (ms), gone (deleted|retracted), ttl (epoch seconds), rg the region
that made the latest change (with replicas, only that region's fan-out sends it).

Entries stored by the first version have a/an/av (one actor), c the producer's time and s the
arrival; they read as a group of one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inbox.models import (
    GROUP_SHOWN_ACTORS,
    Actor,
    Device,
    Notification,
    NotificationEvent,
    NotificationType,
    Resource,
    StoredDevice,
)
from inbox.store.keys import (
    ItemKind,
    id_of,
    is_archived_partition,
    is_read_partition,
    mentions_partition,
    position,
    sort_key,
    unread_partition,
    user_pk,
)
from inbox.timestamps import from_ms, to_ms

ACTOR_SLOTS = tuple(f"a{index}" for index in range(GROUP_SHOWN_ACTORS))
# Types whose entries also sit in the sparse "tabs" index: the Mentions tab reads only them.
MENTION_TAB_TYPES = frozenset({NotificationType.MENTION, NotificationType.REPLY})


@dataclass(frozen=True)
class InboxState:
    """A user's watermarks (ms): read-all, seen-all, clear-all, and the lowest position of an entry
    marked unread under the read-all watermark (unread_floor), if any."""

    read_all: int = 0
    seen_all: int = 0
    cleared: int = 0
    unread_floor: str | None = None

    @classmethod
    def of(cls, item: Mapping[str, Any] | None) -> InboxState:
        if not item:
            return cls()
        floor = item.get("xo")
        return cls(
            read_all=int(item.get("w", 0)),
            seen_all=int(item.get("sw", 0)),
            cleared=int(item.get("cw", 0)),
            unread_floor=str(floor) if floor else None,
        )

    def is_unread(self, item: Mapping[str, Any]) -> bool:
        """Unread: never marked read, and changed after read-all or marked unread since."""
        if is_read_partition(item.get("g1pk")) or "r" in item:
            return False
        return updated_ms(item) > self.read_all or int(item.get("ux", 0)) > self.read_all

    def is_seen(self, item: Mapping[str, Any]) -> bool:
        """Seen: read, changed at or before seen-all, or marked unread (by someone who saw it)."""
        return not self.is_unread(item) or updated_ms(item) <= self.seen_all or "ux" in item


def actor_value(actor: Actor) -> dict[str, Any]:
    value: dict[str, Any] = {"i": actor.id}
    if actor.username:
        value["n"] = actor.username
    if actor.avatar:
        value["v"] = actor.avatar
    return value


def _actor(value: Mapping[str, Any]) -> Actor:
    return Actor(id=value["i"], username=value.get("n"), avatar=value.get("v"))


def updated_ms(item: Mapping[str, Any]) -> int:
    return int(item["u"]) if "u" in item else int(item["s"])


def entry_item(
    event: NotificationEvent,
    entry_id: str,
    *,
    now_ms: int,
    ttl_seconds: int,
    region: str = "",
) -> dict[str, Any]:
    """A new entry of one action, unread, written in ``region``."""
    at = position(now_ms, entry_id)
    item: dict[str, Any] = {
        "pk": user_pk(event.recipient_id),
        "sk": sort_key(ItemKind.NOTIFICATION, entry_id),
        "g1pk": unread_partition(event.recipient_id),
        "g1sk": at,
        "t": event.type.value,
        "rt": event.resource.type,
        "ri": event.resource.id,
        "a0": actor_value(event.actor),
        "n": 1,
        "c": now_ms,
        "u": now_ms,
        "o": to_ms(event.occurred_at),
        "lp": now_ms,
        "ttl": now_ms // 1000 + ttl_seconds,
    }
    if event.type in MENTION_TAB_TYPES:
        item.update({"g2pk": mentions_partition(event.recipient_id), "g2sk": at})
    optional = {"x": event.resource.excerpt, "rg": region}
    item.update({name: value for name, value in optional.items() if value})
    return item


def notification_from_item(item: Mapping[str, Any], state: InboxState) -> Notification:
    """The entry an item stores, as its user sees it with these watermarks."""
    if "u" in item:
        actors = [_actor(item[slot]) for slot in ACTOR_SLOTS if item.get(slot)]
        count, created, updated, occurred = int(item["n"]), item["c"], item["u"], item["o"]
    else:  # an entry of the first version: one action, c the producer's time, s the arrival
        actors = [Actor(id=item["a"], username=item.get("an"), avatar=item.get("av"))]
        count, created, updated, occurred = 1, item["s"], item["s"], item["c"]
    read = not state.is_unread(item)
    return Notification(
        id=id_of(str(item["sk"]), ItemKind.NOTIFICATION) or "",
        type=NotificationType(item["t"]),
        # Unlikes of the newest actors can empty the shown actors of a group that still has members.
        actor=actors[0] if actors else Actor(id="someone"),
        actors=actors,
        actor_count=max(count, len(actors)),
        resource=Resource(type=item["rt"], id=item["ri"], excerpt=item.get("x")),
        created_at=from_ms(created),
        updated_at=from_ms(updated),
        occurred_at=from_ms(occurred),
        read=read,
        seen=state.is_seen(item),
        archived=is_archived_partition(item.get("g1pk")),
    )


def device_item(user_id: str, device: Device, endpoint_arn: str) -> dict[str, Any]:
    return {
        "pk": user_pk(user_id),
        "sk": sort_key(ItemKind.DEVICE, device.id),
        "platform": device.platform,
        "enabled": device.enabled,
        "arn": endpoint_arn,
        "c": to_ms(device.created_at),
    }


def stored_device(item: Mapping[str, Any]) -> StoredDevice:
    device = Device(
        id=id_of(str(item["sk"]), ItemKind.DEVICE) or "",
        platform=item["platform"],
        enabled=bool(item["enabled"]),
        created_at=from_ms(item["c"]),
    )
    return StoredDevice(device=device, endpoint_arn=str(item["arn"]))
