"""Flood control: a recipient gets at most ``per_actor`` notifications from one actor and at most
``per_recipient`` overall per window; the excess is counted and dropped.

Each actor's counter is an expiring item holding the ids it admitted, updated conditionally (one
write per notification); the window's total is their sum, read once per recipient per batch.
Counting comes before storing, so that an event over the limit never reaches the table, its
stream or a phone; since it counts ids, a redelivered event is admitted again, not counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inbox.ingest.ports import FloodCounters
from inbox.models import NotificationEvent
from inbox.store.flood import FloodCount


@dataclass(frozen=True)
class FloodLimits:
    per_actor: int = 20
    per_recipient: int = 500
    window_seconds: int = 3600


class FloodGate:
    """One recipient's flood limits while a batch is applied (the recipient's events are sequential)."""

    def __init__(
        self, counters: FloodCounters, recipient_id: str, limits: FloodLimits, clock: Callable[[], float]
    ) -> None:
        self._counters = counters
        self._recipient_id = recipient_id
        self._limits = limits
        self._clock = clock
        self._totals: dict[int, int] = {}

    def admit(self, event: NotificationEvent) -> bool:
        limits, recipient, notification_id = self._limits, self._recipient_id, event.notification_id
        window = int(self._clock()) // limits.window_seconds * limits.window_seconds
        if window not in self._totals:
            self._totals[window] = self._counters.total(recipient, window)
        if self._totals[window] >= limits.per_recipient:
            # At the window's total only a redelivery of a counted notification still gets through.
            return self._counters.counted(recipient, notification_id, event.actor.id, window)
        counted = self._counters.count(
            recipient, notification_id, event.actor.id, window, limits.window_seconds, limits.per_actor
        )
        if counted is FloodCount.COUNTED:
            self._totals[window] += 1
        return counted is not FloodCount.OVER_LIMIT
