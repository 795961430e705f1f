"""Flood counters: per recipient, actor and window, the ids of the notifications admitted.

A counter holds ids rather than a number, so counting is idempotent: a redelivered event whose
store failed is admitted again instead of being counted twice. It expires with its window.
"""

from __future__ import annotations

from enum import StrEnum

from botocore.exceptions import ClientError

from inbox.store.keys import ItemKind, flood_counter_id, key, sort_key
from inbox.store.table import TableGateway, is_conditional_failure


class FloodCount(StrEnum):
    COUNTED = "counted"
    COUNTED_BEFORE = "counted_before"
    OVER_LIMIT = "over_limit"


class FloodCounterStore:
    def __init__(self, gateway: TableGateway) -> None:
        self._gateway = gateway

    def total(self, user_id: str, window_start: int) -> int:
        """Notifications the user was sent in the window: the ids in its per-actor counters."""
        prefix = sort_key(ItemKind.FLOOD_COUNTER, flood_counter_id(window_start))
        counters = self._gateway.user_items(user_id, prefix, live_only=False, projection="ids")
        return sum(len(item.get("ids", ())) for item in counters)

    def count(
        self, user_id: str, notification_id: str, actor_id: str, window_start: int, window_seconds: int, limit: int
    ) -> FloodCount:
        """Count a notification from the actor in the window, unless the actor's limit is reached."""
        try:
            response = self._gateway.call(
                "update_item",
                ReturnValues="UPDATED_OLD",
                Key=key(user_id, ItemKind.FLOOD_COUNTER, flood_counter_id(window_start, actor_id)),
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
            if is_conditional_failure(error):
                return FloodCount.OVER_LIMIT
            raise
        if notification_id in response.get("Attributes", {}).get("ids", set()):
            return FloodCount.COUNTED_BEFORE
        return FloodCount.COUNTED

    def counted(self, user_id: str, notification_id: str, actor_id: str, window_start: int) -> bool:
        """Whether the notification was counted in the window already (a redelivery)."""
        counter_key = key(user_id, ItemKind.FLOOD_COUNTER, flood_counter_id(window_start, actor_id))
        item = self._gateway.call("get_item", Key=counter_key, ProjectionExpression="ids").get("Item") or {}
        return notification_id in item.get("ids", set())
