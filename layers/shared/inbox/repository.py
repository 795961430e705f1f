"""All DynamoDB access. One table, one index.

Items of a user share the partition ``pk = U#<userId>``:

==============  =================  ==========================================================
sk              what               index (``inbox``) keys
==============  =================  ==========================================================
N#<id>          notification       g1pk = U#<userId>#U (unread) or U#<userId>#R (read),
                                   g1sk = <storedAt ms, 13 digits>#<id>; removed when the
                                   notification is deleted or retracted (a tombstone).
STATE           read-all watermark g1pk = U#<userId>#U, g1sk = "~" (sorts after every
                                   notification, so the first page's query returns it first)
PREFS           preferences        -
C#<connId>      WebSocket conn.    -
D#<deviceId>    push device        -
F#<window>#<a>  flood counter      - (ids of the notifications from actor <a> in the window
                                   starting at <window> epoch seconds; expires with the window)
==============  =================  ==========================================================

Why this shape (the budgets are in the README):

* The notification's key is derived from the action, so a conditional put is the whole of
  deduplication: a redelivered event costs one failed write, and an unlike finds its like
  without a lookup. A delete or retraction leaves a tombstone so that a late redelivery
  cannot bring the notification back.
* Newest-first listing reads the index, whose partition says read or unread: the unread
  listing and the unread count read only unread items, and the full listing merges both
  partitions in two requests.
* "Mark all read" writes one watermark instead of touching every item; an item is read when
  it is in the read partition or was stored at or before the watermark.

Notification attributes are short because capacity is billed by size: t type, a/an/av
actor id/username/avatar, rt/ri/x resource type/id/excerpt, c createdAt (ms), s storedAt
(ms), r readAt (ms), gone (deleted|retracted), ttl (epoch seconds), rg the region that made
the latest change (see Repository).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from inbox.cursor import Cursor
from inbox.errors import NotFound
from inbox.models import (
    Actor,
    Channels,
    Device,
    Notification,
    NotificationEvent,
    NotificationPage,
    NotificationType,
    Preferences,
    Resource,
    Retraction,
    StoredDevice,
    UnreadCount,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

INDEX_NAME = "inbox"
STATE_SK = "STATE"
PREFS_SK = "PREFS"
FLOOD_PREFIX = "F#"
STATE_POSITION = "~"
# The highest possible g1sk of a notification: 13 nines, then a character above any id.
TOP_POSITION = "9999999999999~"
# The unread count is exact up to this many; beyond it the answer is "at least".
UNREAD_COUNT_CAP = 100
CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"
_DESERIALIZER = TypeDeserializer()


def user_pk(user_id: str) -> str:
    return f"U#{user_id}"


def notification_sk(notification_id: str) -> str:
    return f"N#{notification_id}"


def unread_partition(user_id: str) -> str:
    return f"U#{user_id}#U"


def read_partition(user_id: str) -> str:
    return f"U#{user_id}#R"


def position(stored_at_ms: int, notification_id: str) -> str:
    return f"{stored_at_ms:013d}#{notification_id}"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ms_to_datetime(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


READ_OPERATIONS = frozenset({"get_item", "query"})


@dataclass
class CapacityMeter:
    """Capacity units and requests as DynamoDB reports them (ReturnConsumedCapacity=INDEXES)."""

    read_units: float = 0.0
    write_units: float = 0.0
    requests: int = 0
    by_index: dict[str, float] = field(default_factory=dict)

    # Batches are applied on several threads at once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, operation: str, consumed: Mapping[str, Any] | None) -> None:
        with self._lock:
            self.requests += 1
            if not consumed:
                return
            units = float(consumed.get("CapacityUnits", 0) or 0)
            if operation in READ_OPERATIONS:
                self.read_units += units
            else:
                self.write_units += units
            for name, index_units in (consumed.get("GlobalSecondaryIndexes") or {}).items():
                self.by_index[name] = self.by_index.get(name, 0.0) + float(index_units.get("CapacityUnits", 0) or 0)

    def reset(self) -> None:
        with self._lock:
            self.read_units = self.write_units = 0.0
            self.requests = 0
            self.by_index.clear()


def notification_from_item(item: Mapping[str, Any], watermark: int) -> Notification:
    read = str(item.get("g1pk", "")).endswith("#R") or int(item["s"]) <= watermark
    return Notification(
        id=str(item["sk"])[2:],
        type=NotificationType(item["t"]),
        actor=Actor(id=item["a"], username=item.get("an"), avatar=item.get("av")),
        resource=Resource(type=item["rt"], id=item["ri"], excerpt=item.get("x")),
        created_at=_ms_to_datetime(item["c"]),
        read=read,
    )


def notification_item(
    event: NotificationEvent, *, stored_at_ms: int, ttl_seconds: int, region: str = ""
) -> dict[str, Any]:
    """The item that stores an event's notification, unread, written in ``region``."""
    notification_id = event.notification_id
    item: dict[str, Any] = {
        "pk": user_pk(event.recipient_id),
        "sk": notification_sk(notification_id),
        "g1pk": unread_partition(event.recipient_id),
        "g1sk": position(stored_at_ms, notification_id),
        "t": event.type.value,
        "a": event.actor.id,
        "rt": event.resource.type,
        "ri": event.resource.id,
        "c": int(event.occurred_at.timestamp() * 1000),
        "s": stored_at_ms,
        "ttl": stored_at_ms // 1000 + ttl_seconds,
    }
    optional = {"an": event.actor.username, "av": event.actor.avatar, "x": event.resource.excerpt, "rg": region}
    item.update({name: value for name, value in optional.items() if value})
    return item


def _flood_sk(window_start: int, actor_id: str) -> str:
    return f"{FLOOD_PREFIX}{window_start:010d}#{actor_id}"


def _stored_device(item: Mapping[str, Any]) -> StoredDevice:
    device = Device(
        id=str(item["sk"])[2:],
        platform=item["platform"],
        enabled=bool(item["enabled"]),
        created_at=_ms_to_datetime(item["c"]),
    )
    return StoredDevice(device=device, endpoint_arn=str(item["arn"]))


class Repository:
    def __init__(
        self, table: Table, *, notification_ttl_seconds: int, connection_ttl_seconds: int, region: str = ""
    ) -> None:
        self._table = table
        self._notification_ttl = notification_ttl_seconds
        self._connection_ttl = connection_ttl_seconds
        # Written into every change of a notification or watermark (rg): with replicas, each
        # region's stream sees every change, and only the writer's region fans it out.
        self._region = region
        self.meter = CapacityMeter()

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> Any:
        method = getattr(self._table, operation)
        try:
            response = method(ReturnConsumedCapacity="INDEXES", **kwargs)
        except ClientError as error:
            self.meter.record(operation, error.response.get("ConsumedCapacity"))  # type: ignore[arg-type]
            raise
        self.meter.record(operation, response.get("ConsumedCapacity"))
        return response

    def _conditional(self, operation: str, **kwargs: Any) -> Mapping[str, Any] | None:
        """Run a conditional write; None when the condition held, else the item as it was."""
        try:
            self._call(operation, ReturnValuesOnConditionCheckFailure="ALL_OLD", **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != CONDITIONAL_CHECK_FAILED:
                raise
            # The resource API leaves the error's item in DynamoDB JSON.
            raw: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
            return {name: _DESERIALIZER.deserialize(value) for name, value in raw.items()}
        return None

    @staticmethod
    def _query(key_condition: str, values: Mapping[str, Any], *, live_only: bool) -> dict[str, Any]:
        """Query arguments with expressions written as strings.

        boto3's Key() and Attr() conditions are turned into expressions by one builder per client,
        whose placeholder counters every thread shares: queries running side by side garbled each
        other's expressions (seen under load). Strings do not go through it.
        """
        arguments: dict[str, Any] = {"KeyConditionExpression": key_condition, "ExpressionAttributeValues": dict(values)}
        if live_only:
            # DynamoDB deletes expired items within days, not at once: reads hide them meanwhile.
            arguments["FilterExpression"] = "attribute_not_exists(#ttl) OR #ttl > :now_s"
            arguments["ExpressionAttributeNames"] = {"#ttl": "ttl"}
            arguments["ExpressionAttributeValues"][":now_s"] = int(time.time())
        return arguments

    # -- ingest ---------------------------------------------------------------------------

    def store(self, event: NotificationEvent, *, stored_at_ms: int | None = None) -> bool:
        """Store the notification for an event; False when this action was stored before."""
        stored_at = stored_at_ms if stored_at_ms is not None else now_ms()
        item = notification_item(event, stored_at_ms=stored_at, ttl_seconds=self._notification_ttl, region=self._region)
        try:
            self._call("put_item", Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == CONDITIONAL_CHECK_FAILED:
                return False
            raise
        return True

    def retract(self, retraction: Retraction) -> bool:
        """Withdraw the notification an undone action caused; False when there is none."""
        old = self._conditional(
            "update_item",
            Key={"pk": user_pk(retraction.recipient_id), "sk": notification_sk(retraction.notification_id)},
            UpdateExpression="SET gone = :gone, rg = :region REMOVE g1pk, g1sk",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(gone)",
            ExpressionAttributeValues={":gone": "retracted", ":region": self._region},
        )
        return old is None

    # -- flood control --------------------------------------------------------------------

    def flood_count(self, user_id: str, window_start: int) -> int:
        """Notifications the user was sent in the window: the ids in its per-actor counters."""
        prefix = f"{FLOOD_PREFIX}{window_start:010d}#"
        counters = self._prefix(user_id, prefix, live_only=False, projection="ids")
        return sum(len(item.get("ids", ())) for item in counters)

    def count_toward_flood_limit(
        self, user_id: str, notification_id: str, actor_id: str, window_start: int, window_seconds: int, limit: int
    ) -> str:
        """Count a notification from the actor in the window: "counted", "counted_before" or "over_limit".

        The counter holds the notification ids, so counting is idempotent: a redelivered event whose
        store failed is admitted again ("counted_before") instead of being counted twice.
        """
        try:
            response = self._call(
                "update_item",
                ReturnValues="UPDATED_OLD",
                Key={"pk": user_pk(user_id), "sk": _flood_sk(window_start, actor_id)},
                UpdateExpression="ADD ids :id SET #ttl = :expires",
                ConditionExpression="attribute_not_exists(ids) OR size(ids) < :limit OR contains(ids, :notification)",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":id": {notification_id},
                    ":notification": notification_id,
                    ":limit": limit,
                    ":expires": window_start + window_seconds,
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == CONDITIONAL_CHECK_FAILED:
                return "over_limit"
            raise
        return "counted_before" if notification_id in response.get("Attributes", {}).get("ids", set()) else "counted"

    def counted_toward_flood_limit(self, user_id: str, notification_id: str, actor_id: str, window_start: int) -> bool:
        """Whether the notification was counted in the window already (a redelivery)."""
        key = {"pk": user_pk(user_id), "sk": _flood_sk(window_start, actor_id)}
        item = self._call("get_item", Key=key, ProjectionExpression="ids").get("Item") or {}
        return notification_id in item.get("ids", set())

    # -- inbox ----------------------------------------------------------------------------

    def _watermark(self, user_id: str) -> int:
        response = self._call("get_item", Key={"pk": user_pk(user_id), "sk": STATE_SK}, ProjectionExpression="w")
        return int(response.get("Item", {}).get("w", 0))

    def list_notifications(
        self, user_id: str, *, limit: int, cursor: str | None = None, unread_only: bool = False
    ) -> NotificationPage:
        after = Cursor.decode(cursor, user_id=user_id, unread_only=unread_only) if cursor else None
        if unread_only:
            return self._list_unread(user_id, limit, after)
        return self._list_all(user_id, limit, after)

    def _list_all(self, user_id: str, limit: int, after: Cursor | None) -> NotificationPage:
        upper = after.position if after else STATE_POSITION
        # The first page's unread query also returns the STATE item (it sorts last), which
        # saves a request for the watermark; later pages take it from the cursor.
        unread = self._call(
            "query",
            IndexName=INDEX_NAME,
            **self._query(
                "g1pk = :partition AND g1sk <= :upper",
                {":partition": unread_partition(user_id), ":upper": upper},
                live_only=True,
            ),
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        read = self._call(
            "query",
            IndexName=INDEX_NAME,
            **self._query(
                "g1pk = :partition AND g1sk < :upper",
                {":partition": read_partition(user_id), ":upper": upper},
                live_only=True,
            ),
            ScanIndexForward=False,
            Limit=limit,
        )
        watermark = after.watermark if after else 0
        candidates = []
        for item in unread["Items"]:
            if item["sk"] == STATE_SK:
                watermark = int(item.get("w", 0))
            elif item["g1sk"] != upper:
                candidates.append(item)
        candidates.extend(read["Items"])
        candidates.sort(key=lambda item: str(item["g1sk"]), reverse=True)
        page = candidates[:limit]
        more = len(candidates) > limit or "LastEvaluatedKey" in unread or "LastEvaluatedKey" in read
        return self._page(user_id, page, watermark, more=more, unread_only=False)

    def _list_unread(self, user_id: str, limit: int, after: Cursor | None) -> NotificationPage:
        watermark = after.watermark if after else self._watermark(user_id)
        upper = after.position if after else TOP_POSITION
        response = self._call(
            "query",
            IndexName=INDEX_NAME,
            **self._query(
                "g1pk = :partition AND g1sk BETWEEN :lower AND :upper",
                {":partition": unread_partition(user_id), ":lower": f"{watermark + 1:013d}", ":upper": upper},
                live_only=True,
            ),
            ScanIndexForward=False,
            Limit=limit + 1,
        )
        items = [item for item in response["Items"] if item["g1sk"] != upper]
        page = items[:limit]
        more = len(items) > limit or "LastEvaluatedKey" in response
        return self._page(user_id, page, watermark, more=more, unread_only=True)

    @staticmethod
    def _page(
        user_id: str, items: list[dict[str, Any]], watermark: int, *, more: bool, unread_only: bool
    ) -> NotificationPage:
        next_cursor = None
        if more and items:
            last = Cursor(user_id=user_id, unread_only=unread_only, position=items[-1]["g1sk"], watermark=watermark)
            next_cursor = last.encode()
        return NotificationPage(
            items=[notification_from_item(item, watermark) for item in items], next_cursor=next_cursor
        )

    def unread_count(self, user_id: str) -> UnreadCount:
        watermark = self._watermark(user_id)
        response = self._call(
            "query",
            IndexName=INDEX_NAME,
            **self._query(
                "g1pk = :partition AND g1sk BETWEEN :lower AND :upper",
                {":partition": unread_partition(user_id), ":lower": f"{watermark + 1:013d}", ":upper": TOP_POSITION},
                live_only=True,
            ),
            Select="COUNT",
            Limit=UNREAD_COUNT_CAP,
        )
        count = int(response["Count"])
        return UnreadCount(count=count, capped="LastEvaluatedKey" in response)

    def _not_found_unless_live(self, old: Mapping[str, Any], notification_id: str) -> None:
        expired = "ttl" in old and int(old["ttl"]) <= int(time.time())
        if not old or "gone" in old or expired:
            raise NotFound(f"notification {notification_id} not found")

    def mark_read(self, user_id: str, notification_id: str) -> None:
        old = self._conditional(
            "update_item",
            Key={"pk": user_pk(user_id), "sk": notification_sk(notification_id)},
            UpdateExpression="SET g1pk = :read, r = :now, rg = :region",
            ConditionExpression="g1pk = :unread AND (attribute_not_exists(#ttl) OR #ttl > :now_s)",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={
                ":region": self._region,
                ":read": read_partition(user_id),
                ":unread": unread_partition(user_id),
                ":now": now_ms(),
                ":now_s": int(time.time()),
            },
        )
        if old is not None:
            self._not_found_unless_live(old, notification_id)  # otherwise it was read already

    def mark_all_read(self, user_id: str) -> None:
        self._call(
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
        old = self._conditional(
            "update_item",
            Key={"pk": user_pk(user_id), "sk": notification_sk(notification_id)},
            UpdateExpression="SET gone = :gone, rg = :region REMOVE g1pk, g1sk",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(gone) AND #ttl > :now_s",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":gone": "deleted", ":now_s": int(time.time()), ":region": self._region},
        )
        if old is not None:
            self._not_found_unless_live(old, notification_id)

    # -- preferences ----------------------------------------------------------------------

    def preferences(self, user_id: str) -> Preferences:
        response = self._call("get_item", Key={"pk": user_pk(user_id), "sk": PREFS_SK})
        item = response.get("Item")
        if not item:
            return Preferences()
        return Preferences(
            muted_types=[NotificationType(kind) for kind in item.get("muted", [])],
            channels=Channels(websocket=bool(item.get("ws", True)), push=bool(item.get("push", True))),
        )

    def put_preferences(self, user_id: str, preferences: Preferences) -> Preferences:
        normalised = preferences.normalised()
        self._call(
            "put_item",
            Item={
                "pk": user_pk(user_id),
                "sk": PREFS_SK,
                "muted": [kind.value for kind in normalised.muted_types],
                "ws": normalised.channels.websocket,
                "push": normalised.channels.push,
            },
        )
        return normalised

    # -- WebSocket connections ------------------------------------------------------------

    def add_connection(self, user_id: str, connection_id: str) -> None:
        self._call(
            "put_item",
            Item={
                "pk": user_pk(user_id),
                "sk": f"C#{connection_id}",
                "at": now_ms(),
                "ttl": int(time.time()) + self._connection_ttl,
            },
        )

    def remove_connection(self, user_id: str, connection_id: str) -> None:
        self._call("delete_item", Key={"pk": user_pk(user_id), "sk": f"C#{connection_id}"})

    def connections(self, user_id: str) -> list[str]:
        return [str(item["sk"])[2:] for item in self._prefix(user_id, "C#", live_only=True)]

    # -- devices --------------------------------------------------------------------------

    def put_device(self, user_id: str, device: Device, endpoint_arn: str) -> None:
        self._call(
            "put_item",
            Item={
                "pk": user_pk(user_id),
                "sk": f"D#{device.id}",
                "platform": device.platform,
                "enabled": device.enabled,
                "arn": endpoint_arn,
                "c": int(device.created_at.timestamp() * 1000),
            },
        )

    def stored_devices(self, user_id: str) -> list[StoredDevice]:
        return [_stored_device(item) for item in self._prefix(user_id, "D#", live_only=False)]

    def device(self, user_id: str, device_id: str) -> StoredDevice | None:
        item = self._call("get_item", Key={"pk": user_pk(user_id), "sk": f"D#{device_id}"}).get("Item")
        return _stored_device(item) if item else None

    def delete_device(self, user_id: str, device_id: str) -> str:
        """Forget a device and return its endpoint ARN, so that the caller can delete it too."""
        response = self._call(
            "delete_item", Key={"pk": user_pk(user_id), "sk": f"D#{device_id}"}, ReturnValues="ALL_OLD"
        )
        old = response.get("Attributes")
        if not old:
            raise NotFound(f"device {device_id} not found")
        return str(old["arn"])

    def disable_device(self, user_id: str, device_id: str) -> None:
        self._conditional(
            "update_item",
            Key={"pk": user_pk(user_id), "sk": f"D#{device_id}"},
            UpdateExpression="SET enabled = :false",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":false": False},
        )

    def _prefix(
        self, user_id: str, prefix: str, *, live_only: bool, projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        arguments = self._query(
            "pk = :pk AND begins_with(sk, :prefix)", {":pk": user_pk(user_id), ":prefix": prefix}, live_only=live_only
        )
        if projection:
            arguments["ProjectionExpression"] = projection
        return self._pages(arguments)

    def _pages(self, arguments: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a query returns, page after page."""
        while True:
            response = self._call("query", **arguments)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            arguments = {**arguments, "ExclusiveStartKey": response["LastEvaluatedKey"]}

    # -- backup (inbox_dev.backup: one user's items as JSON Lines) -------------------------

    def export_items(self, user_id: str) -> Iterator[dict[str, Any]]:
        """Every live item of the user's partition as stored, but connections and flood counters (ephemeral).

        Notifications with their read state, tombstones, the read-all watermark, preferences and
        devices, in key order; expired items (past ttl, not yet deleted by DynamoDB) are left out.
        """
        arguments = {**self._query("pk = :pk", {":pk": user_pk(user_id)}, live_only=True), "ConsistentRead": True}
        # A filter cannot test the sort key: connections and flood counters, both short-lived and
        # few per user, are dropped here.
        for item in self._pages(arguments):
            if not str(item["sk"]).startswith(("C#", FLOOD_PREFIX)):
                yield item

    def import_items(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Put items as they are (overwriting items with the same keys); the number written.

        BatchWriteItem in batches of 25 through boto3's batch writer, which resends unprocessed
        items. The caller validates the items: nothing here checks their shape.
        """
        written = 0
        with self._table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=dict(item))
                written += 1
        return written
