"""What a DynamoDB Streams record means for the recipient's open inboxes.

The template's filter criteria already keep everything but entry and STATE items away; this
module decides which change a record is. The message every open tab receives is shaped when it is
delivered, with the user's watermarks and counts read once per batch (delivery/messages.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from inbox.store.keys import (
    STATE_SK,
    ItemKind,
    id_of,
    is_archived_partition,
    is_read_partition,
    is_unread_partition,
    user_of,
)
from inbox.timestamps import from_ms, iso_z

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord


class ChangeKind(StrEnum):
    """The message type each change is sent as."""

    CREATED = "notification.created"
    UPDATED = "notification.updated"
    DELETED = "notification.deleted"
    READ = "notification.read"
    UNREAD = "notification.unread"
    ARCHIVED = "notification.archived"
    UNARCHIVED = "notification.unarchived"
    READ_ALL = "notifications.read_all"
    SEEN_ALL = "notifications.seen_all"
    CLEARED = "notifications.cleared"


# A watermark of the STATE item, the change it makes and the field that carries its time.
WATERMARKS = (
    ("w", ChangeKind.READ_ALL, "readAt"),
    ("sw", ChangeKind.SEEN_ALL, "seenAt"),
    ("cw", ChangeKind.CLEARED, "clearedAt"),
)


@dataclass(frozen=True)
class InboxChange:
    user_id: str
    kind: ChangeKind
    entry_id: str | None = None
    item: Mapping[str, Any] | None = None  # the entry as it is now, for created and updated
    fields: Mapping[str, Any] | None = None  # what else the message says (a watermark's time)
    grew: bool = False  # a group gained an actor: its phones may hear of it


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
        for name, moved, field in WATERMARKS:
            if name in new and new.get(name) != old.get(name):
                return InboxChange(user_id, moved, fields={field: iso_z(from_ms(new[name]))})
        return None
    entry_id = id_of(sort_key, ItemKind.NOTIFICATION)
    if entry_id is None:
        return None
    kind = _entry_change(old, new)
    if kind is None:
        return None
    # An entry of the first version has no actor count: one actor, before and after.
    grew = kind is ChangeKind.CREATED or int(new.get("n") or 1) > int(old.get("n") or 1)
    item = new if kind in (ChangeKind.CREATED, ChangeKind.UPDATED) else None
    return InboxChange(user_id, kind, entry_id, item=item, grew=grew and kind is not ChangeKind.DELETED)


def _entry_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> ChangeKind | None:
    was, now = old.get("g1pk"), new.get("g1pk")
    if "gone" in new:
        return ChangeKind.DELETED if was and "gone" not in old else None
    if not now:
        return None
    if not was:
        return ChangeKind.CREATED  # new, or back after its last action was undone
    if new.get("n") != old.get("n") or new.get("u") != old.get("u"):
        return ChangeKind.UPDATED  # a group grew or lost an actor
    if is_archived_partition(now) != is_archived_partition(was):
        return ChangeKind.ARCHIVED if is_archived_partition(now) else ChangeKind.UNARCHIVED
    if is_read_partition(now) and not is_read_partition(was):
        return ChangeKind.READ
    if is_unread_partition(now) and (is_read_partition(was) or new.get("ux") != old.get("ux")):
        return ChangeKind.UNREAD
    return None
