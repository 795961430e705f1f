"""A recipient's flood window, read from the entries it changed: flood control keeps no item of its own.

The window's notifications are the entries of the recipient's unread partition of the ``inbox``
index whose position (their last change) lies in the window:

* an entry of one action counts 1, for its actor;
* a group that began in the window counts all its members (``n``), a group that began earlier
  counts 1 (at least one member arrived in the window; how many more is not stored);
* each actor an entry shows (``a0``..``a2``, or ``a`` in the first version) counts 1 for that actor.

Entries the recipient marked read, archived or deleted one by one are out of the unread partition
and no longer count: they were seen. A read-all leaves entries in place, so they still count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from inbox.models import GROUP_SHOWN_ACTORS
from inbox.store.keys import INDEX_NAME, TOP_POSITION, lowest_position_after, unread_partition
from inbox.store.table import TableGateway, query_arguments

_SHOWN = tuple(f"a{index}" for index in range(GROUP_SHOWN_ACTORS))
# A flooded window is read a page at a time, up to its limit, not 1 MB at a time.
PAGE_SIZE = 100
# Only what counting needs comes back (capacity is billed on the whole entry all the same).
_PROJECTION = ", ".join(["n", "c", "a", *(f"{slot}.i" for slot in _SHOWN)])


@dataclass(frozen=True)
class FloodWindow:
    """Notifications a recipient got in a window: in all, and per actor."""

    total: int = 0
    by_actor: Mapping[str, int] = field(default_factory=dict)


class FloodWindowStore:
    def __init__(self, gateway: TableGateway) -> None:
        self._gateway = gateway

    def window(self, user_id: str, window_start: int, enough: int) -> FloodWindow:
        """What the user got since ``window_start`` (epoch s); the read stops once ``enough`` are counted."""
        start_ms = window_start * 1000
        arguments = query_arguments(
            "g1pk = :unread AND g1sk BETWEEN :from AND :top",
            {":unread": unread_partition(user_id), ":from": lowest_position_after(start_ms - 1), ":top": TOP_POSITION},
            live_only=False,
            projection=_PROJECTION,
        )
        total, by_actor = 0, dict[str, int]()
        pages = {**arguments, "IndexName": INDEX_NAME, "PaginationConfig": {"PageSize": PAGE_SIZE}}
        for item in self._gateway.items(pages):
            total += _members_in_window(item, start_ms)
            for actor in _shown_actors(item):
                by_actor[actor] = by_actor.get(actor, 0) + 1
            if total >= enough:
                break  # flooded: nothing more is admitted whatever the rest holds
        return FloodWindow(total, by_actor)


def _members_in_window(item: Mapping[str, Any], start_ms: int) -> int:
    if "n" not in item:
        return 1  # an entry of the first version: one action
    return int(item["n"]) if int(item.get("c", 0)) >= start_ms else 1


def _shown_actors(item: Mapping[str, Any]) -> set[str]:
    shown = {
        str(slot["i"]) for slot in (item.get(name) for name in _SHOWN) if isinstance(slot, Mapping) and "i" in slot
    }
    if "a" in item:
        shown.add(str(item["a"]))
    return shown
