"""Storing entries: one action, or an action joining a group; undoing an action.

* An entry of one action is keyed by the action, so a conditional put is the whole of
  deduplication.
* A grouped action first puts its member item (keyed by the action: a redelivery fails there, at
  one write unit), then updates its group's entry: one more actor, counted exactly with ADD, the
  entry moved to the top. The entry's size does not grow with its members.
* An undone action leaves a tombstone on its key whether or not the action has arrived yet, so
  that an action travelling behind its undo on another topic stays silent.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError

from inbox.models import GROUP_SHOWN_ACTORS, NotificationEvent, NotificationType, Retraction
from inbox.store.items import ACTOR_SLOTS, actor_value, entry_item
from inbox.store.keys import ItemKind, id_of, key, position, unread_partition, user_of
from inbox.store.table import TableGateway, is_conditional_failure
from inbox.timestamps import now_ms, now_s, to_ms

# Optimistic updates of a group an unlike leaves: retried when a join changes it in between.
LEAVE_ATTEMPTS = 8


class Stored(StrEnum):
    CREATED = "created"  # a new entry (or a group started)
    JOINED = "joined"  # an existing group grew
    DUPLICATE = "duplicate"  # this action was stored or undone before


class Undone(StrEnum):
    RETRACTED = "retracted"  # the action's entry lost it (or went, if it was the last)
    AHEAD = "ahead"  # the action has not arrived: its tombstone waits for it
    ALREADY = "already"  # undone before


class ConcurrentChange(Exception):
    """A group kept changing under an unlike; the record is retried."""


class NotificationStore:
    def __init__(self, gateway: TableGateway, *, ttl_seconds: int | Mapping[str, int], region: str = "") -> None:
        self._gateway = gateway
        # How long each type is kept (NotificationTtlDays); one number keeps every type as long.
        self._ttl_seconds: Mapping[str, int] = (
            ttl_seconds if isinstance(ttl_seconds, Mapping) else {kind.value: ttl_seconds for kind in NotificationType}
        )
        # Written into every change of an entry or watermark (rg): with replicas, each region's
        # stream sees every change, and only the writer's region fans it out.
        self._region = region

    def put(self, event: NotificationEvent, *, at_ms: int | None = None) -> Stored:
        """Store an entry of one action (keyed by the action)."""
        item = entry_item(
            event,
            event.notification_id,
            now_ms=at_ms or now_ms(),
            ttl_seconds=self._ttl_seconds[event.type],
            region=self._region,
        )
        return Stored.CREATED if self._gateway.put_new(item) else Stored.DUPLICATE

    def add_to_group(self, event: NotificationEvent, entry_id: str, *, at_ms: int | None = None) -> Stored:
        """Add an action to the group entry ``entry_id``, starting the group if it has no entry yet."""
        now = at_ms or now_ms()
        member = {
            **key(event.recipient_id, ItemKind.MEMBER, event.notification_id),
            "g": entry_id,
            "ttl": now // 1000 + self._ttl_seconds[event.type],
        }
        if not self._gateway.put_new(member):
            return Stored.DUPLICATE
        try:
            old = self._join(event, entry_id, now)
        except Exception:
            # Without its member the action is applied again when the record is retried.
            self._gateway.call("delete_item", Key={"pk": member["pk"], "sk": member["sk"]})
            raise
        return Stored.JOINED if "n" in old and "gone" not in old else Stored.CREATED

    def _join(self, event: NotificationEvent, entry_id: str, now: int) -> Mapping[str, Any]:
        shift = ", ".join(
            f"{ACTOR_SLOTS[index]} = if_not_exists({ACTOR_SLOTS[index - 1]}, :none)"
            for index in range(GROUP_SHOWN_ACTORS - 1, 0, -1)
        )
        values: dict[str, Any] = {
            ":none": None,
            ":actor": actor_value(event.actor),
            ":now": now,
            ":occurred": to_ms(event.occurred_at),
            ":unread": unread_partition(event.recipient_id),
            ":position": position(now, entry_id),
            ":ttl": now // 1000 + self._ttl_seconds[event.type],
            ":region": self._region,
            ":type": event.type.value,
            ":rtype": event.resource.type,
            ":rid": event.resource.id,
            ":one": 1,
        }
        update = (
            f"SET {shift}, a0 = :actor, u = :now, o = :occurred, g1pk = :unread, g1sk = :position, #ttl = :ttl,"
            " rg = :region, t = :type, rt = :rtype, ri = :rid, c = if_not_exists(c, :now), lp = if_not_exists(lp, :now)"
        )
        if event.resource.excerpt:
            update += ", x = :excerpt"
            values[":excerpt"] = event.resource.excerpt
        values[":action"] = event.notification_id
        try:
            response = self._gateway.call(
                "update_item",
                Key=key(event.recipient_id, ItemKind.NOTIFICATION, entry_id),
                # A grown group is unread and unseen again, out of the archive, and back if it was gone.
                UpdateExpression=f"{update}, la = :action ADD n :one REMOVE gone, ux, r",
                # The last action joined: botocore resends a write whose answer was lost, and ADD must
                # not count that action twice.
                ConditionExpression="attribute_not_exists(la) OR la <> :action",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as error:
            if is_conditional_failure(error):
                return {"n": 1}  # this action's join was applied already
            raise
        attributes: Mapping[str, Any] = response.get("Attributes") or {}
        return attributes

    def group_started(self, user_id: str, entry_id: str) -> int | None:
        """When a group's first member arrived (ms), None when it has no entry."""
        item = self._gateway.call(
            "get_item", Key=key(user_id, ItemKind.NOTIFICATION, entry_id), ProjectionExpression="c"
        ).get("Item")
        return int(item["c"]) if item and "c" in item else None

    def group_starts(self, groups: Collection[tuple[str, str]]) -> dict[tuple[str, str], int | None]:
        """When each (user, entry id) group's first member arrived, None for those with no entry: a
        batch's lookups in one request per hundred."""
        wanted = sorted(set(groups))
        found = {
            (user_of(str(item["pk"])), str(id_of(str(item["sk"]), ItemKind.NOTIFICATION))): item
            for item in self._gateway.batch_get(
                [key(user, ItemKind.NOTIFICATION, entry_id) for user, entry_id in wanted], projection="c"
            )
        }
        return {group: int(found[group]["c"]) if "c" in found.get(group, {}) else None for group in wanted}

    def record_push(self, user_id: str, entry_id: str, at_ms: int) -> None:
        """When a group's phones last heard of it; a change of lp alone is no change of any inbox."""
        self._gateway.call(
            "update_item",
            Key=key(user_id, ItemKind.NOTIFICATION, entry_id),
            UpdateExpression="SET lp = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": at_ms},
        )

    def retract(self, retraction: Retraction) -> Undone:
        """Undo an action: its group loses it, or its own entry goes; a tombstone stays on its key."""
        held, old = self._gateway.conditional_with_old(
            "update_item",
            Key=key(retraction.recipient_id, ItemKind.MEMBER, retraction.notification_id),
            UpdateExpression="SET gone = :gone, #ttl = if_not_exists(#ttl, :ttl)",
            ConditionExpression="attribute_not_exists(gone)",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":gone": "retracted", ":ttl": now_s() + self._ttl_seconds[retraction.type]},
        )
        if not held:
            return Undone.ALREADY
        if "g" in old:
            try:
                self._leave(retraction.recipient_id, str(old["g"]), retraction)
            except Exception:
                # Without its tombstone the undo is applied again when the record is retried.
                self._gateway.call(
                    "update_item",
                    Key=key(retraction.recipient_id, ItemKind.MEMBER, retraction.notification_id),
                    UpdateExpression="REMOVE gone",
                )
                raise
            return Undone.RETRACTED
        return Undone.RETRACTED if self._retract_entry(retraction) else Undone.AHEAD

    def _retract_entry(self, retraction: Retraction) -> bool:
        """Withdraw an entry keyed by the action itself (one stored by the first version)."""
        old = self._gateway.conditional(
            "update_item",
            Key=key(retraction.recipient_id, ItemKind.NOTIFICATION, retraction.notification_id),
            UpdateExpression="SET gone = :gone, rg = :region REMOVE g1pk, g1sk, g2pk, g2sk",
            ConditionExpression="attribute_exists(pk) AND attribute_not_exists(gone)",
            ExpressionAttributeValues={":gone": "retracted", ":region": self._region},
        )
        return old is None

    def _leave(self, user_id: str, entry_id: str, retraction: Retraction) -> None:
        """Take an actor out of a group: one fewer, no longer shown; the entry goes with its last actor."""
        entry_key = key(user_id, ItemKind.NOTIFICATION, entry_id)
        actor_id = retraction.actor_id
        for _ in range(LEAVE_ATTEMPTS):
            item = self._gateway.call("get_item", Key=entry_key, ConsistentRead=True).get("Item")
            # Gone, or this undo was applied already (its answer was lost and the write was sent again).
            if not item or "gone" in item or item.get("lu") == retraction.notification_id:
                return
            count = int(item.get("n", 1))
            values: dict[str, Any] = {":count": count, ":region": self._region, ":action": retraction.notification_id}
            if count <= 1:
                # Emptied, so that a later like within the window starts it afresh.
                update = "SET gone = :gone, rg = :region, lu = :action, n = :zero, " + ", ".join(
                    f"{slot} = :none" for slot in ACTOR_SLOTS
                )
                update += " REMOVE g1pk, g1sk, g2pk, g2sk"
                values.update({":gone": "retracted", ":zero": 0, ":none": None})
            else:
                shown = [item.get(slot) for slot in ACTOR_SLOTS]
                kept = [actor for actor in shown if actor and actor.get("i") != actor_id]
                kept += [None] * (GROUP_SHOWN_ACTORS - len(kept))
                update = (
                    "SET " + ", ".join(f"{slot} = :{slot}" for slot in ACTOR_SLOTS) + ", rg = :region, lu = :action"
                )
                update += " ADD n :minus"
                values.update({f":{slot}": actor for slot, actor in zip(ACTOR_SLOTS, kept, strict=True)})
                values[":minus"] = -1
            try:
                self._gateway.call(
                    "update_item",
                    Key=entry_key,
                    UpdateExpression=update,
                    ConditionExpression="n = :count AND attribute_not_exists(gone)",
                    ExpressionAttributeValues=values,
                )
            except ClientError as error:
                if is_conditional_failure(error):
                    continue  # a join or another unlike changed it: read it again
                raise
            return
        raise ConcurrentChange(f"group {entry_id} kept changing while an actor left it")
