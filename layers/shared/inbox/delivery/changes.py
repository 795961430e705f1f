"""What a DynamoDB Streams record means for the recipient's open inboxes.

The template's filter criteria already keep everything but notification and STATE items away;
this module decides which change a record is, and the message every open tab receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inbox.models import Notification
from inbox.store.items import notification_from_item
from inbox.store.keys import STATE_SK, ItemKind, id_of, is_read_partition, is_unread_partition, user_of
from inbox.timestamps import from_ms, iso_z

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


@dataclass(frozen=True)
class InboxChange:
    user_id: str
    message: dict[str, Any]
    # Set for a new notification only: that is the one change that also goes to phones.
    created: Notification | None = None


def change_of(record: DynamoDBRecord, region: str = "") -> InboxChange | None:
    """The change a record makes to an inbox, or None; None too for changes another region wrote.

    With replicas, every region's stream carries every change: only the fan-out of the region
    that wrote it (its ``rg``) sends it, so nobody gets a message or a push twice.
    """
    keys = record.dynamodb.keys if record.dynamodb else {}
    new = (record.dynamodb.new_image if record.dynamodb else None) or {}
    old = (record.dynamodb.old_image if record.dynamodb else None) or {}
    if not keys or not new or new.get("rg", region) != region:
        return None
    user_id, sort_key = user_of(str(keys["pk"])), str(keys["sk"])
    if sort_key == STATE_SK:
        if new.get("w") == old.get("w"):
            return None
        return InboxChange(user_id, {"type": "notifications.read_all", "readAt": iso_z(from_ms(new["w"]))})
    notification_id = id_of(sort_key, ItemKind.NOTIFICATION)
    if notification_id is None:
        return None
    if not old and "g1pk" in new:
        notification = notification_from_item(new, watermark=0)
        message = {"type": "notification.created", "notification": notification.model_dump(mode="json", by_alias=True)}
        return InboxChange(user_id, message, created=notification)
    if "g1pk" in old and "gone" in new and "gone" not in old:
        return InboxChange(user_id, {"type": "notification.deleted", "id": notification_id})
    if is_unread_partition(old.get("g1pk")) and is_read_partition(new.get("g1pk")):
        return InboxChange(user_id, {"type": "notification.read", "id": notification_id})
    return None
