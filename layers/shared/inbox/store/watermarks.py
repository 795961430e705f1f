"""A user's watermarks, one STATE item: read-all, seen-all and clear-all are one write each, at any size.

The STATE item sits in the unread partition of the index at the top position ("~"), so a query of
that partition from the top returns it before the entries: listings and counts get the
watermarks without a request of their own.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from inbox.store.items import InboxState, updated_ms
from inbox.store.keys import INDEX_NAME, STATE_POSITION, STATE_SK, unread_partition, user_pk
from inbox.store.table import TableGateway, is_conditional_failure
from inbox.timestamps import now_ms


class WatermarkStore:
    def __init__(self, gateway: TableGateway, *, region: str = "") -> None:
        self._gateway = gateway
        self._region = region

    def state(self, user_id: str) -> InboxState:
        response = self._gateway.call("get_item", Key={"pk": user_pk(user_id), "sk": STATE_SK})
        return InboxState.of(response.get("Item"))

    def read_all(self, user_id: str) -> None:
        # Entries marked unread before are read again: their floor goes with the old watermark.
        self._set(user_id, "w = :now", remove="xo")

    def clear_all(self, user_id: str) -> None:
        self._set(user_id, "cw = :now")

    def seen_all(self, user_id: str) -> bool:
        """Move the seen-all watermark, unless nothing is unseen (then nothing is written); whether it moved.

        Opening the inbox calls this every time, so the usual call is one small read: the STATE item
        and the newest entry of the unread partition. Nothing newer than the watermark, nothing unseen.
        """
        response = self._gateway.query(
            IndexName=INDEX_NAME,
            KeyConditionExpression="g1pk = :partition",
            ExpressionAttributeValues={":partition": unread_partition(user_id)},
            ScanIndexForward=False,
            Limit=2,
        )
        items = response["Items"]
        state = InboxState.of(items[0] if items and items[0]["sk"] == STATE_SK else None)
        newest = [item for item in items if item["sk"] != STATE_SK][:1]
        if not newest or updated_ms(newest[0]) <= max(state.seen_all, state.cleared, state.read_all):
            return False
        self._set(user_id, "sw = :now")
        return True

    def see_up_to(self, user_id: str, at_ms: int) -> None:
        """Everything changed at or before ``at_ms`` is seen: the newest entry an opened inbox
        showed, so that what arrived after it still counts as unseen. Never moves the watermark back."""
        try:
            self._set(user_id, "sw = :seen", condition="attribute_not_exists(sw) OR sw < :seen", seen=at_ms)
        except ClientError as error:
            if not is_conditional_failure(error):
                raise  # otherwise an open or seen-all of another device went further

    def lower_unread_floor(self, user_id: str, floor: str) -> None:
        """Let unread listings and counts reach down to ``floor``: an entry there was marked unread."""
        try:
            self._set(user_id, "xo = :floor", condition="attribute_not_exists(xo) OR xo > :floor", floor=floor)
        except ClientError as error:
            if not is_conditional_failure(error):
                raise  # otherwise the floor was already lower

    def _set(self, user_id: str, assignment: str, *, remove: str = "", condition: str = "", **values: Any) -> None:
        arguments: dict[str, Any] = {
            "Key": {"pk": user_pk(user_id), "sk": STATE_SK},
            "UpdateExpression": f"SET {assignment}, g1pk = :partition, g1sk = :top, rg = :region"
            + (f" REMOVE {remove}" if remove else ""),
            "ExpressionAttributeValues": {
                ":partition": unread_partition(user_id),
                ":top": STATE_POSITION,
                ":region": self._region,
                **{f":{name}": value for name, value in values.items()},
            },
        }
        if ":now" in assignment:
            arguments["ExpressionAttributeValues"][":now"] = now_ms()
        if condition:
            arguments["ConditionExpression"] = condition
        self._gateway.call("update_item", **arguments)
