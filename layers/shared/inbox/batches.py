"""Work on a batch side by side while keeping the order that matters.

Records of one key (a recipient) must be applied in order: a like and its unlike, or a
notification and its "read" sync, would otherwise race. Records of different keys are
independent, so each key's records run in order on one thread and the keys run on a pool.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")
Result = TypeVar("Result")


def in_order_per_key(
    pool: ThreadPoolExecutor,
    items: Iterable[Item],
    key_of: Callable[[Item], Key],
    handle: Callable[[list[Item]], Result],
) -> list[Result]:
    """``handle`` each key's items, in their batch order; keys side by side on ``pool``."""
    groups: dict[Key, list[Item]] = {}
    for item in items:
        groups.setdefault(key_of(item), []).append(item)
    return list(pool.map(handle, groups.values()))
