"""The table's key schema: every key is built and read here, by writers and by stream readers alike.

Items of a user share the partition ``pk = U#<userId>``:

==============  =================  ==========================================================
sk              what               index (``inbox``) keys
==============  =================  ==========================================================
N#<id>          inbox entry        g1pk = U#<userId>#U (unread), #R (read) or #A (archived),
                (one action, or    g1sk = <updatedAt ms, 13 digits>#<id>; removed when the
                a group of them)   entry is deleted or its last action retracted (a tombstone).
                                   Mentions and replies also carry g2pk = U#<userId>#M and
                                   g2sk = g1sk in the sparse index ``tabs``.
M#<actionId>    group member       - (the entry a grouped action joined; a tombstone once the
                                   action is undone, so that it never counts or notifies again)
STATE           watermarks         g1pk = U#<userId>#U, g1sk = "~" (sorts after every entry,
                (read-all, seen-   so a query of the unread partition from the top returns
                all, clear-all)    it first)
PREFS           preferences        -
C#<connId>      WebSocket conn.    -
D#<deviceId>    push device        -
F#<window>#<a>  old flood counter  - (left by the earlier flood control, which wrote one per
                                   actor and window; no longer written, gone by its TTL)
==============  =================  ==========================================================

Digest schedules have partitions of their own, by the UTC hour they are due
(``DIGEST#<yyyymmddhh>#<shard>``, sort key ``U#<userId>``): see store/digests.py.

docs/data-model.md explains why the table has this shape.
"""

from __future__ import annotations

from enum import StrEnum

INDEX_NAME = "inbox"
TABS_INDEX_NAME = "tabs"
STATE_SK = "STATE"
PREFS_SK = "PREFS"
STATE_POSITION = "~"
# The highest possible g1sk of a notification: 13 nines, then a character above any id.
TOP_POSITION = "9999999999999~"
USER_PREFIX = "U#"
UNREAD_SUFFIX = "#U"
READ_SUFFIX = "#R"
ARCHIVED_SUFFIX = "#A"
MENTIONS_SUFFIX = "#M"


class ItemKind(StrEnum):
    """What an item of a user's partition is, by the prefix of its sort key."""

    NOTIFICATION = "N#"
    MEMBER = "M#"
    CONNECTION = "C#"
    DEVICE = "D#"
    FLOOD_COUNTER = "F#"  # no longer written: backups skip those that have not expired yet


def user_pk(user_id: str) -> str:
    return f"{USER_PREFIX}{user_id}"


def user_of(pk: str) -> str:
    return pk.removeprefix(USER_PREFIX)


def sort_key(kind: ItemKind, identifier: str) -> str:
    return f"{kind.value}{identifier}"


def key(user_id: str, kind: ItemKind, identifier: str) -> dict[str, str]:
    return {"pk": user_pk(user_id), "sk": sort_key(kind, identifier)}


def id_of(sk: str, kind: ItemKind) -> str | None:
    """The identifier in a sort key of that kind, None for a key of another kind."""
    return sk.removeprefix(kind.value) if sk.startswith(kind.value) else None


def unread_partition(user_id: str) -> str:
    return f"{user_pk(user_id)}{UNREAD_SUFFIX}"


def read_partition(user_id: str) -> str:
    return f"{user_pk(user_id)}{READ_SUFFIX}"


def archived_partition(user_id: str) -> str:
    return f"{user_pk(user_id)}{ARCHIVED_SUFFIX}"


def mentions_partition(user_id: str) -> str:
    return f"{user_pk(user_id)}{MENTIONS_SUFFIX}"


def is_archived_partition(g1pk: object) -> bool:
    return str(g1pk or "").endswith(ARCHIVED_SUFFIX)


def is_unread_partition(g1pk: object) -> bool:
    return str(g1pk or "").endswith(UNREAD_SUFFIX)


def is_read_partition(g1pk: object) -> bool:
    return str(g1pk or "").endswith(READ_SUFFIX)


def position(updated_at_ms: int, entry_id: str) -> str:
    return f"{updated_at_ms:013d}#{entry_id}"


def lowest_position_after(watermark_ms: int) -> str:
    """The lowest index position of an entry that changed after the watermark."""
    return f"{watermark_ms + 1:013d}"
