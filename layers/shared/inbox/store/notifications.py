"""Notifications and the read-all watermark: storing, retracting, read state and newest-first reads.

* The notification's key is derived from the action, so a conditional put is the whole of
  deduplication: a redelivered event costs one failed write, and an unlike finds its like
  without a lookup. A delete or retraction leaves a tombstone so that a late redelivery
  cannot bring the notification back.
* Newest-first listing reads the index, whose partition says read or unread: the unread
  listing and the unread count read only unread items, and the full listing merges both
  partitions in two requests.
* "Mark all read" writes one watermark instead of touching every item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inbox.errors import NotFound
from inbox.models import Notification, NotificationEvent, Retraction
from inbox.store.items import notification_from_item, notification_item
from inbox.store.keys import (
    INDEX_NAME,
    STATE_POSITION,
    STATE_SK,
    TOP_POSITION,
    ItemKind,
    key,
    lowest_position_after,
    read_partition,
    unread_partition,
    user_pk,
)
from inbox.store.table import TableGateway, query_arguments
from inbox.timestamps import now_ms, now_s

# The unread count is exact up to this many; beyond it the answer is "at least".
UNREAD_COUNT_CAP = 100


@dataclass(frozen=True)
class ListPosition:
    """Where a listing stopped: the last index position shown and the watermark it was read with."""

    position: str
    watermark: int


@dataclass(frozen=True)
class StoredPage:
    notifications: list[Notification]
    last: ListPosition | None  # set when more notifications follow


@dataclass(frozen=True)
class StoredCount:
    count: int
    capped: bool


class NotificationStore:
    def __init__(self, gateway: TableGateway, *, ttl_seconds: int, region: str = "") -> None:
        self._gateway = gateway
        self._ttl_seconds = ttl_seconds
        # Written into every change of a notification or watermark (rg): with replicas, each
        # region's stream sees every change, and only the writer's region fans it out.
        self._region = region

    # -- ingest ---------------------------------------------------------------------------

    def put(self, event: NotificationEvent, *, stored_at_ms: int | None = None) -> bool:
        """Store the notification for an event; False when this action was stored before."""
        stored_at = stored_at_ms if stored_at_ms is not None else now_ms()
        item = notification_item(event, stored_at_ms=stored_at, ttl_seconds=self._ttl_seconds, region=self._region)
        return self._gateway.put_new(item)

    def retract(self, retraction: Retraction) -> bool:
        """Withdraw the notification an undone action caused; True when there was one to withdraw.

        The tombstone is left whether or not the notification is there yet: a like and its unlike
        travel on different topics, so the unlike may come first, and the late like must stay silent.
        """
        ttl = now_s() + self._ttl_seconds
        held, old = self._gateway.conditional_with_old(
            "update_item",
            Key=key(retraction.recipient_id, ItemKind.NOTIFICATION, retraction.notification_id),
            UpdateExpression="SET gone = :gone, rg = :region, #ttl = if_not_exists(#ttl, :ttl) REMOVE g1pk, g1sk",
            ConditionExpression="attribute_not_exists(gone)",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":gone": "retracted", ":region": self._region, ":ttl": ttl},
        )
        return held and "g1pk" in old

    # -- read state -----------------------------------------------------------------------

    def mark_read(self, user_id: str, notification_id: str) -> None:
        """Mark a live notification read; NotFound if there is none (reading it again changes nothing)."""
        self._change_live(
            user_id,
            notification_id,
            "SET g1pk = :read, r = :now, rg = :region",
            "g1pk = :unread AND (attribute_not_exists(#ttl) OR #ttl > :now_s)",
            {":read": read_partition(user_id), ":unread": unread_partition(user_id), ":now": now_ms()},
        )

    def mark_all_read(self, user_id: str) -> None:
        self._gateway.call(
            "update_item",
            Key={"pk": user_pk(user_id), "sk": STATE_SK},
            UpdateExpression="SET w = :now, g1pk = :partition, g1sk = :position, rg = :region",
            ExpressionAttributeValues={
                ":region": self._region,
                ":now": now_ms(),
                ":partition": unread_partition(user_id),
                ":position": STATE_POSITION,
            },
        )

    def delete(self, user_id: str, notification_id: str) -> None:
        """Delete a live notification, leaving a tombstone; NotFound if there is none."""
        self._change_live(
            user_id,
            notification_id,
            "SET gone = :gone, rg = :region REMOVE g1pk, g1sk",
            "attribute_exists(pk) AND attribute_not_exists(gone) AND #ttl > :now_s",
            {":gone": "deleted"},
        )

    def _change_live(
        self, user_id: str, notification_id: str, update: str, condition: str, values: Mapping[str, Any]
    ) -> None:
        """A conditional change of the user's notification; NotFound when it is gone, expired or was never there."""
        old = self._gateway.conditional(
            "update_item",
            Key=key(user_id, ItemKind.NOTIFICATION, notification_id),
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={**values, ":region": self._region, ":now_s": now_s()},
        )
        if old is None:
            return
        expired = "ttl" in old and int(old["ttl"]) <= now_s()
        if not old or "gone" in old or expired:
            raise NotFound(f"notification {notification_id} not found")

    # -- newest-first reads ---------------------------------------------------------------

    def watermark(self, user_id: str) -> int:
        response = self._gateway.call(
            "get_item", Key={"pk": user_pk(user_id), "sk": STATE_SK}, ProjectionExpression="w"
        )
        return int(response.get("Item", {}).get("w", 0))

    def newest(self, user_id: str, limit: int, after: ListPosition | None) -> StoredPage:
        """A page of every live notification, newest first, read or not."""
        upper = after.position if after else STATE_POSITION
        # The first page's unread query also returns the STATE item (it sorts last), which
        # saves a request for the watermark; later pages take it from the cursor.
        unread = self._newest_query(unread_partition(user_id), "g1sk <= :upper", {":upper": upper}, limit + 1)
        read = self._newest_query(read_partition(user_id), "g1sk < :upper", {":upper": upper}, limit)
        watermark = after.watermark if after else 0
        candidates = []
        for item in unread["Items"]:
            if item["sk"] == STATE_SK:
                watermark = int(item.get("w", 0))
            elif item["g1sk"] != upper:
                candidates.append(item)
        candidates.extend(read["Items"])
        candidates.sort(key=lambda item: str(item["g1sk"]), reverse=True)
        more = len(candidates) > limit or "LastEvaluatedKey" in unread or "LastEvaluatedKey" in read
        return _page(candidates[:limit], watermark, more=more)

    def newest_unread(self, user_id: str, limit: int, after: ListPosition | None) -> StoredPage:
        """A page of the live unread notifications, newest first."""
        watermark = after.watermark if after else self.watermark(user_id)
        upper = after.position if after else TOP_POSITION
        response = self._newest_query(
            unread_partition(user_id),
            "g1sk BETWEEN :lower AND :upper",
            {":lower": lowest_position_after(watermark), ":upper": upper},
            limit + 1,
        )
        items = [item for item in response["Items"] if item["g1sk"] != upper]
        return _page(items[:limit], watermark, more=len(items) > limit or "LastEvaluatedKey" in response)

    def count_unread(self, user_id: str) -> StoredCount:
        """Live unread notifications, exact up to UNREAD_COUNT_CAP - 1."""
        watermark = self.watermark(user_id)
        response = self._gateway.query(
            IndexName=INDEX_NAME,
            **query_arguments(
                "g1pk = :partition AND g1sk BETWEEN :lower AND :upper",
                {
                    ":partition": unread_partition(user_id),
                    ":lower": lowest_position_after(watermark),
                    ":upper": TOP_POSITION,
                },
                live_only=True,
            ),
            Select="COUNT",
            Limit=UNREAD_COUNT_CAP,
        )
        return StoredCount(count=int(response["Count"]), capped="LastEvaluatedKey" in response)

    def _newest_query(self, partition: str, sort_condition: str, values: Mapping[str, Any], limit: int) -> Any:
        return self._gateway.query(
            IndexName=INDEX_NAME,
            **query_arguments(
                f"g1pk = :partition AND {sort_condition}", {":partition": partition, **values}, live_only=True
            ),
            ScanIndexForward=False,
            Limit=limit,
        )


def _page(items: list[dict[str, Any]], watermark: int, *, more: bool) -> StoredPage:
    last = ListPosition(position=str(items[-1]["g1sk"]), watermark=watermark) if more and items else None
    return StoredPage(notifications=[notification_from_item(item, watermark) for item in items], last=last)
