"""The rules that turn canonical events into stored notifications.

* Nobody is notified of their own action.
* Muted types are not stored.
* One notification per action: the repository's conditional put on the action's key.
* An unlike retracts the like it undoes, if it is still there. A like after an unlike does
  not notify again: the retraction leaves a tombstone on the action's key, so toggling a
  like cannot flood the recipient (until the tombstone expires with the notification TTL).
* Flood control: a recipient gets at most ``per_actor`` notifications from one actor and at
  most ``per_recipient`` overall per window; the excess is counted and dropped. Each actor's
  counter is an expiring item holding the ids it admitted, updated conditionally (one write per
  notification); the window's total is their sum, read once per recipient per batch. Counting
  comes before storing, so that an event over the limit never reaches the table, its stream or
  a phone; since it counts ids, a redelivered event is admitted again, not counted twice.
"""

from __future__ import annotations

import binascii
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inbox.batches import in_order_per_key
from inbox.events import InvalidRecord, adapt
from inbox.models import NotificationEvent, NotificationType, Retraction

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

    from inbox.repository import Repository


def events_of(record: KafkaEventRecord) -> list[NotificationEvent | Retraction]:
    """The canonical events of an MSK or self-managed Kafka record; InvalidRecord if there are none."""
    if record.raw_event.get("value") is None:
        # A tombstone (a key with a null value) or a record handed over without its value.
        raise InvalidRecord("value is null")
    try:
        raw = record.decoded_value
    except (binascii.Error, ValueError) as error:
        raise InvalidRecord(f"value is not valid base64: {error}") from None
    return adapt(record.topic, raw, record.timestamp)


Event = NotificationEvent | Retraction
# A record's outcome: what happened to each of its events, or why the record must be retried.
RecordOutcome = list[str] | Exception


class EarlierEventFailed(Exception):
    """A recipient's event is held back because one before it failed: it is retried in order."""


@dataclass(frozen=True)
class FloodLimits:
    per_actor: int = 20
    per_recipient: int = 500
    window_seconds: int = 3600


class FloodGate:
    """One recipient's flood limits while a batch is applied (the recipient's events are sequential)."""

    def __init__(
        self, repository: Repository, recipient_id: str, limits: FloodLimits, clock: Callable[[], float]
    ) -> None:
        self._repository = repository
        self._recipient_id = recipient_id
        self._limits = limits
        self._clock = clock
        self._totals: dict[int, int] = {}

    def admit(self, event: NotificationEvent) -> bool:
        limits, recipient, notification_id = self._limits, self._recipient_id, event.notification_id
        window = int(self._clock()) // limits.window_seconds * limits.window_seconds
        if window not in self._totals:
            self._totals[window] = self._repository.flood_count(recipient, window)
        if self._totals[window] >= limits.per_recipient:
            # At the window's total only a redelivery of a counted notification still gets through.
            return self._repository.counted_toward_flood_limit(recipient, notification_id, event.actor.id, window)
        counted = self._repository.count_toward_flood_limit(
            recipient, notification_id, event.actor.id, window, limits.window_seconds, limits.per_actor
        )
        if counted == "counted":
            self._totals[window] += 1
        return counted != "over_limit"


class Ingestor:
    """Applies a batch's events: recipients side by side, each recipient's events in record order.

    Preferences are read once per recipient per batch. Once an event of a recipient fails, that
    recipient's later events in the batch fail with it, so that the retry applies them in order
    (an unlike must never overtake the like it undoes).
    """

    def __init__(
        self,
        repository: Repository,
        concurrency: int,
        limits: FloodLimits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repository = repository
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="recipient")
        self._limits = limits or FloodLimits()
        self._clock = clock

    def apply_all(self, records: Sequence[tuple[str, list[Event]]]) -> dict[str, RecordOutcome]:
        """The outcome of each keyed record's events."""
        outcomes: dict[str, RecordOutcome] = {key: [] for key, _ in records}
        keyed_events = [(key, event) for key, events in records for event in events]
        for results in in_order_per_key(self._pool, keyed_events, _recipient_of, self._apply_for_recipient):
            for key, result in results:
                known = outcomes[key]
                if isinstance(result, Exception):
                    outcomes[key] = known if isinstance(known, Exception) else result
                elif isinstance(known, list):
                    known.append(result)
        return outcomes

    def _apply_for_recipient(self, keyed_events: list[tuple[str, Event]]) -> list[tuple[str, str | Exception]]:
        # Any failure fails this recipient's records only (Lambda retries them), never the batch.
        try:
            muted = self._muted_types(keyed_events)
        except Exception as error:  # reported per record by the caller
            return [(key, error) for key, _ in keyed_events]
        flood = FloodGate(self._repository, _recipient_of(keyed_events[0]), self._limits, self._clock)
        failed: Exception | None = None
        results: list[tuple[str, str | Exception]] = []
        for key, event in keyed_events:
            if failed is not None:
                results.append((key, EarlierEventFailed(f"an earlier event for this recipient failed: {failed}")))
                continue
            try:
                results.append((key, self._apply(event, muted, flood)))
            except Exception as error:  # reported per record by the caller
                failed = error
                results.append((key, error))
        return results

    def _muted_types(self, keyed_events: list[tuple[str, Event]]) -> frozenset[NotificationType]:
        """The recipient's muted types, read only if some event could notify them."""
        for _, event in keyed_events:
            if isinstance(event, NotificationEvent) and not event.is_self_action:
                return frozenset(self._repository.preferences(event.recipient_id).muted_types)
        return frozenset()

    def _apply(self, event: Event, muted: frozenset[NotificationType], flood: FloodGate) -> str:
        if isinstance(event, Retraction):
            return "retracted" if self._repository.retract(event) else "nothing_to_retract"
        if event.is_self_action:
            return "self_action"
        if event.type in muted:
            return "muted"
        if not flood.admit(event):
            return "flood_dropped"
        return "created" if self._repository.store(event) else "duplicate"


def _recipient_of(keyed_event: tuple[str, Event]) -> str:
    return keyed_event[1].recipient_id
