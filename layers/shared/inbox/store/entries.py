"""A user's changes to one entry: read, unread, archived, back from the archive, deleted.

Each is one conditional write of the entry (its index position moves between the unread, read
and archived partitions); a change of an entry that is gone, expired or was never there is
NotFound, and a change that is already true changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inbox.errors import NotFound
from inbox.store.items import updated_ms
from inbox.store.keys import (
    ItemKind,
    archived_partition,
    is_archived_partition,
    key,
    position,
    read_partition,
    unread_partition,
)
from inbox.store.table import TableGateway
from inbox.store.watermarks import WatermarkStore
from inbox.timestamps import now_ms, now_s

LIVE = "attribute_exists(pk) AND attribute_not_exists(gone) AND (attribute_not_exists(#ttl) OR #ttl > :now_s)"


class EntryStore:
    def __init__(self, gateway: TableGateway, watermarks: WatermarkStore, *, region: str = "") -> None:
        self._gateway = gateway
        self._watermarks = watermarks
        self._region = region

    def mark_read(self, user_id: str, entry_id: str) -> None:
        self._change(
            user_id,
            entry_id,
            "SET g1pk = :read, r = :now, rg = :region REMOVE ux",
            f"g1pk = :unread AND {LIVE}",
            {":read": read_partition(user_id), ":unread": unread_partition(user_id), ":now": now_ms()},
        )

    def mark_unread(self, user_id: str, entry_id: str) -> None:
        """Unread again, even under the read-all watermark: listings and counts then reach down to it."""
        marked = now_ms()
        item = self._change(
            user_id,
            entry_id,
            "SET g1pk = :unread, ux = :now, rg = :region REMOVE r",
            f"g1pk IN (:unread, :read) AND {LIVE}",
            {":read": read_partition(user_id), ":unread": unread_partition(user_id), ":now": marked},
        )
        if item is not None and updated_ms(item) <= self._watermarks.state(user_id).read_all:
            self._watermarks.lower_unread_floor(user_id, position(updated_ms(item), entry_id))

    def archive(self, user_id: str, entry_id: str) -> None:
        item = self._live(user_id, entry_id)
        if is_archived_partition(item.get("g1pk")):
            return
        self._change(
            user_id,
            entry_id,
            "SET g1pk = :archived, rg = :region",
            f"g1pk = :was AND {LIVE}",
            {":archived": archived_partition(user_id), ":was": item["g1pk"]},
        )

    def unarchive(self, user_id: str, entry_id: str) -> None:
        """Back to the inbox, read or unread as it was when archived."""
        item = self._live(user_id, entry_id)
        if not is_archived_partition(item.get("g1pk")):
            return
        back = read_partition(user_id) if "r" in item else unread_partition(user_id)
        self._change(
            user_id,
            entry_id,
            "SET g1pk = :back, rg = :region",
            f"g1pk = :archived AND {LIVE}",
            {":back": back, ":archived": archived_partition(user_id)},
        )

    def delete(self, user_id: str, entry_id: str) -> None:
        """Delete an entry, leaving a tombstone (a redelivered action does not bring it back)."""
        self._change(
            user_id,
            entry_id,
            "SET gone = :gone, rg = :region REMOVE g1pk, g1sk, g2pk, g2sk",
            LIVE,
            {":gone": "deleted"},
        )

    def _live(self, user_id: str, entry_id: str) -> Mapping[str, Any]:
        item = self._gateway.call(
            "get_item", Key=key(user_id, ItemKind.NOTIFICATION, entry_id), ConsistentRead=True
        ).get("Item")
        if not item or "gone" in item or ("ttl" in item and int(item["ttl"]) <= now_s()):
            raise NotFound(f"notification {entry_id} not found")
        return dict(item)

    def _change(
        self, user_id: str, entry_id: str, update: str, condition: str, values: Mapping[str, Any]
    ) -> Mapping[str, Any] | None:
        """A conditional change of a live entry: the entry as changed, or None when it already was so.

        NotFound when the entry is gone, expired or was never there.
        """
        held, item = self._gateway.conditional_with_old(
            "update_item",
            Key=key(user_id, ItemKind.NOTIFICATION, entry_id),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={**values, ":region": self._region, ":now_s": now_s()},
        )
        if held:
            return item
        expired = "ttl" in item and int(item["ttl"]) <= now_s()
        if not item or "gone" in item or expired:
            raise NotFound(f"notification {entry_id} not found")
        return None
