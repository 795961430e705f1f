"""Flood control: a recipient gets at most ``per_actor`` notifications from one actor and at most
``per_recipient`` overall per window; the excess is counted and dropped.

Nothing is written for it: the window is read from the entries it changed (inbox.store.flood), at
most once per recipient per batch, and only when a flood is in sight. A container remembers each
recipient's window: its last read plus what it stored since, or, for a recipient it has not read
yet, what it stored itself. While that stays under half of each limit, a batch is admitted on it
without a read; past half, every batch reads again, until the read shows a limit reached (then
nothing more is admitted in the window without reading). So a recipient who is not being
flooded costs no read at all. What other containers stored for the same recipient is unseen until
then, so each of them can let through at most half a limit more than the limit: the price of not
reading.

Counting comes before storing, so that an event over the limit never reaches the table, its
stream or a phone. A redelivered event whose store failed was never counted, so it is admitted
again; one whose store succeeded is a duplicate, or dropped at no write at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from inbox.ingest.ports import FloodWindows
from inbox.models import NotificationEvent
from inbox.store.flood import FloodWindow

# Recipients' windows a container remembers (a few hundred bytes each), the least recent forgotten.
REMEMBERED_WINDOWS = 20_000


@dataclass(frozen=True)
class FloodLimits:
    per_actor: int = 20
    per_recipient: int = 500
    window_seconds: int = 3600


@dataclass
class _Known:
    total: int
    by_actor: dict[str, int] = field(default_factory=dict)


class FloodMemory:
    """What this container knows of recipients' current windows; recipients are applied side by side."""

    def __init__(self, size: int = REMEMBERED_WINDOWS) -> None:
        self._size = size
        self._known: OrderedDict[tuple[str, int], _Known] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, recipient: str, window: int) -> _Known | None:
        with self._lock:
            known = self._known.get((recipient, window))
            if known is not None:
                self._known.move_to_end((recipient, window))
            return known

    def start(self, recipient: str, window: int) -> _Known:
        """A window this container has not read: counted from what it stores itself."""
        return self._remember(recipient, window, _Known(0))

    def read(self, recipient: str, window: int, read: FloodWindow) -> _Known:
        return self._remember(recipient, window, _Known(read.total, dict(read.by_actor)))

    def _remember(self, recipient: str, window: int, known: _Known) -> _Known:
        with self._lock:
            self._known[(recipient, window)] = known
            self._known.move_to_end((recipient, window))
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return known

    def stored(self, recipient: str, window: int, actor: str) -> None:
        with self._lock:
            known = self._known.get((recipient, window))
            if known is not None:
                known.total += 1
                known.by_actor[actor] = known.by_actor.get(actor, 0) + 1


class FloodGate:
    """One recipient's flood limits while a batch is applied (the recipient's events are sequential)."""

    def __init__(
        self,
        windows: FloodWindows,
        memory: FloodMemory,
        recipient_id: str,
        limits: FloodLimits,
        clock: Callable[[], float],
    ) -> None:
        self._windows = windows
        self._memory = memory
        self._recipient_id = recipient_id
        self._limits = limits
        self._clock = clock
        self._read_in_batch: set[int] = set()

    def admit(self, event: NotificationEvent) -> bool:
        limits, actor, window = self._limits, event.actor.id, self._window()
        known = self._memory.get(self._recipient_id, window) or self._memory.start(self._recipient_id, window)
        # What was over a limit stays over for the window: only the way up needs reading again.
        if window not in self._read_in_batch and not self._over(known, actor) and self._near(known, actor):
            read = self._windows.window(self._recipient_id, window, limits.per_recipient)
            known = self._memory.read(self._recipient_id, window, read)
            self._read_in_batch.add(window)
        return not self._over(known, actor)

    def stored(self, event: NotificationEvent) -> None:
        """An admitted event made or grew an entry (not a duplicate): it counts from now on."""
        self._memory.stored(self._recipient_id, self._window(), event.actor.id)

    def _near(self, known: _Known, actor: str) -> bool:
        return (
            known.total >= self._limits.per_recipient // 2
            or known.by_actor.get(actor, 0) >= self._limits.per_actor // 2
        )

    def _over(self, known: _Known, actor: str) -> bool:
        return known.total >= self._limits.per_recipient or known.by_actor.get(actor, 0) >= self._limits.per_actor

    def _window(self) -> int:
        seconds = self._limits.window_seconds
        return int(self._clock()) // seconds * seconds
