"""The table's key schema: every key is built and read here, by writers and by stream readers alike.

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

docs/data-model.md explains why the table has this shape.
"""

from __future__ import annotations

from enum import StrEnum

INDEX_NAME = "inbox"
STATE_SK = "STATE"
PREFS_SK = "PREFS"
STATE_POSITION = "~"
# The highest possible g1sk of a notification: 13 nines, then a character above any id.
TOP_POSITION = "9999999999999~"
USER_PREFIX = "U#"
UNREAD_SUFFIX = "#U"
READ_SUFFIX = "#R"


class ItemKind(StrEnum):
    """What an item of a user's partition is, by the prefix of its sort key."""

    NOTIFICATION = "N#"
    CONNECTION = "C#"
    DEVICE = "D#"
    FLOOD_COUNTER = "F#"


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


def is_unread_partition(g1pk: object) -> bool:
    return str(g1pk or "").endswith(UNREAD_SUFFIX)


def is_read_partition(g1pk: object) -> bool:
    return str(g1pk or "").endswith(READ_SUFFIX)


def position(stored_at_ms: int, notification_id: str) -> str:
    return f"{stored_at_ms:013d}#{notification_id}"


def lowest_position_after(watermark_ms: int) -> str:
    """The lowest index position of a notification stored after the watermark."""
    return f"{watermark_ms + 1:013d}"


def flood_counter_id(window_start: int, actor_id: str = "") -> str:
    """A flood counter's identifier; without an actor, the prefix of every counter of the window."""
    return f"{window_start:010d}#{actor_id}"
