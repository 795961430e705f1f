"""When each user's next email digest is due: items keyed by the due hour, read by a query.

A due item sits in the partition ``DIGEST#<yyyymmddhh UTC>#<shard>`` under the sort key
``U#<userId>``; the hourly run queries the hour's shards, never scans. One item is written per
user per digest period (when the digest is sent, for the next one) and when a user's schedule or
address changes; items left behind by an older schedule are never due under the current one and
expire. ``since`` is the time the last digest covered up to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from inbox.settings import DAY_SECONDS
from inbox.store.keys import user_of, user_pk
from inbox.store.table import TableGateway, query_arguments

DIGEST_PREFIX = "DIGEST#"
# The users due in one hour are spread over this many partitions, each one query per run.
DIGEST_SHARDS = 4
# A due item outlives its hour by this much, so that a late or repeated run still finds it.
DUE_ITEM_GRACE_SECONDS = 2 * DAY_SECONDS


@dataclass(frozen=True)
class DueDigest:
    user_id: str
    since_ms: int | None


def shard_of(user_id: str) -> int:
    return hashlib.sha256(user_id.encode()).digest()[0] % DIGEST_SHARDS


def due_partition(hour: datetime, shard: int) -> str:
    return f"{DIGEST_PREFIX}{hour:%Y%m%d%H}#{shard}"


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class DigestScheduleStore:
    def __init__(self, gateway: TableGateway) -> None:
        self._gateway = gateway

    def _item(self, user_id: str, hour: datetime, since_ms: int | None) -> dict[str, object]:
        expires = hour + timedelta(seconds=DUE_ITEM_GRACE_SECONDS)
        item: dict[str, object] = {
            "pk": due_partition(hour, shard_of(user_id)),
            "sk": user_pk(user_id),
            "ttl": int(expires.timestamp()),
        }
        if since_ms is not None:
            item["since"] = since_ms
        return item

    def schedule(self, user_id: str, hour: datetime, since_ms: int | None = None) -> bool:
        """Make the user due at ``hour``; False if they already were (their item is kept as it is).

        The same put claims a digest: of two runs of one hour, only the first schedules the next.
        """
        return self._gateway.put_new(self._item(user_id, hour, since_ms))

    def reschedule(self, user_id: str, hour: datetime, since_ms: int) -> None:
        """The digest at ``hour`` covers from ``since_ms``: a digest that could not be sent is included in the next."""
        self._gateway.call("put_item", Item=self._item(user_id, hour, since_ms))

    def due(self, hour: datetime) -> Iterator[DueDigest]:
        """Every user due at ``hour``, shard after shard, page after page."""
        for shard in range(DIGEST_SHARDS):
            arguments = query_arguments(
                "pk = :pk", {":pk": due_partition(hour, shard)}, live_only=False, projection="sk, since"
            )
            for item in self._gateway.items(arguments):
                since = item.get("since")
                yield DueDigest(user_of(str(item["sk"])), int(since) if since is not None else None)
