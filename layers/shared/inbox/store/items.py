"""Items as stored and the models they stand for, in both directions.

Attribute names are short because capacity is billed by size: t type, a/an/av actor
id/username/avatar, rt/ri/x resource type/id/excerpt, c createdAt (ms), s storedAt (ms),
r readAt (ms), gone (deleted|retracted), ttl (epoch seconds), rg the region that made the
latest change (with replicas, only that region's fan-out sends it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inbox.models import Actor, Device, Notification, NotificationEvent, NotificationType, Resource, StoredDevice
from inbox.store.keys import ItemKind, id_of, is_read_partition, position, sort_key, unread_partition, user_pk
from inbox.timestamps import from_ms, to_ms


def notification_item(
    event: NotificationEvent, *, stored_at_ms: int, ttl_seconds: int, region: str = ""
) -> dict[str, Any]:
    """The item that stores an event's notification, unread, written in ``region``."""
    notification_id = event.notification_id
    item: dict[str, Any] = {
        "pk": user_pk(event.recipient_id),
        "sk": sort_key(ItemKind.NOTIFICATION, notification_id),
        "g1pk": unread_partition(event.recipient_id),
        "g1sk": position(stored_at_ms, notification_id),
        "t": event.type.value,
        "a": event.actor.id,
        "rt": event.resource.type,
        "ri": event.resource.id,
        "c": to_ms(event.occurred_at),
        "s": stored_at_ms,
        "ttl": stored_at_ms // 1000 + ttl_seconds,
    }
    optional = {"an": event.actor.username, "av": event.actor.avatar, "x": event.resource.excerpt, "rg": region}
    item.update({name: value for name, value in optional.items() if value})
    return item


def notification_from_item(item: Mapping[str, Any], watermark: int) -> Notification:
    """The notification an item stores; read when in the read partition or stored at or before the watermark."""
    read = is_read_partition(item.get("g1pk")) or int(item["s"]) <= watermark
    return Notification(
        id=id_of(str(item["sk"]), ItemKind.NOTIFICATION) or "",
        type=NotificationType(item["t"]),
        actor=Actor(id=item["a"], username=item.get("an"), avatar=item.get("av")),
        resource=Resource(type=item["rt"], id=item["ri"], excerpt=item.get("x")),
        created_at=from_ms(item["c"]),
        read=read,
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
