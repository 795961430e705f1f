"""One user's items read from and written to the table, for backups (backup.py holds the file format)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from inbox.store.keys import ItemKind, user_pk
from inbox.store.table import TableGateway, query_arguments


def export_items(table: Any, user_id: str) -> Iterator[dict[str, Any]]:
    """Every live item of the user's partition as stored, but connections and flood counters (ephemeral).

    Entries (of either data model) with their read and archived state, tombstones, group members
    and their tombstones, the watermarks (STATE), preferences and devices, in key order; expired
    items (past ttl, not yet deleted by DynamoDB) are left out. The pages are read consistently but
    are not a snapshot: a like that arrives while a user is exported can be in its group's count
    without its member (members sort before entries).
    """
    arguments = {**query_arguments("pk = :pk", {":pk": user_pk(user_id)}, live_only=True), "ConsistentRead": True}
    # A filter cannot test the sort key: connections and flood counters, both short-lived and
    # few per user, are dropped here.
    ephemeral = (ItemKind.CONNECTION.value, ItemKind.FLOOD_COUNTER.value)
    for item in TableGateway(table).items(arguments):
        if not str(item["sk"]).startswith(ephemeral):
            yield item


def import_items(table: Any, items: Iterable[Mapping[str, Any]]) -> int:
    """Put items as they are (overwriting items with the same keys); the number written.

    BatchWriteItem in batches of 25 through boto3's batch writer, which resends unprocessed
    items. The caller validates the items: nothing here checks their shape.
    """
    written = 0
    with table.batch_writer() as batch:
        for item in items:
            batch.put_item(Item=dict(item))
            written += 1
    return written
