"""The rules that turn canonical events into stored notifications.

* Nobody is notified of their own action.
* Muted types are not stored.
* One notification per action: the repository's conditional put on the action's key.
* An unlike retracts the like it undoes, if it is still there. A like after an unlike does
  not notify again: the retraction leaves a tombstone on the action's key, so toggling a
  like cannot flood the recipient (until the tombstone expires with the notification TTL).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from inbox.batches import in_order_per_key
from inbox.events import InvalidRecord, adapt
from inbox.models import NotificationEvent, NotificationType, Retraction

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

    from inbox.repository import Repository


def events_of(record: KafkaEventRecord) -> list[NotificationEvent | Retraction]:
    """The canonical events of an MSK or self-managed Kafka record; InvalidRecord if there are none."""
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


class Ingestor:
    """Applies a batch's events: recipients side by side, each recipient's events in record order.

    Preferences are read once per recipient per batch. Once an event of a recipient fails, that
    recipient's later events in the batch fail with it, so that the retry applies them in order
    (an unlike must never overtake the like it undoes).
    """

    def __init__(self, repository: Repository, concurrency: int) -> None:
        self._repository = repository
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="recipient")

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
        try:
            muted = self._muted_types(keyed_events)
        except (ClientError, BotoCoreError) as error:
            return [(key, error) for key, _ in keyed_events]
        failed: Exception | None = None
        results: list[tuple[str, str | Exception]] = []
        for key, event in keyed_events:
            if failed is not None:
                results.append((key, EarlierEventFailed(f"an earlier event for this recipient failed: {failed}")))
                continue
            try:
                results.append((key, self._apply(event, muted)))
            except (ClientError, BotoCoreError) as error:
                failed = error
                results.append((key, error))
        return results

    def _muted_types(self, keyed_events: list[tuple[str, Event]]) -> frozenset[NotificationType]:
        """The recipient's muted types, read only if some event could notify them."""
        for _, event in keyed_events:
            if isinstance(event, NotificationEvent) and not event.is_self_action:
                return frozenset(self._repository.preferences(event.recipient_id).muted_types)
        return frozenset()

    def _apply(self, event: Event, muted: frozenset[NotificationType]) -> str:
        if isinstance(event, Retraction):
            return "retracted" if self._repository.retract(event) else "nothing_to_retract"
        if event.is_self_action:
            return "self_action"
        if event.type in muted:
            return "muted"
        return "created" if self._repository.store(event) else "duplicate"


def _recipient_of(keyed_event: tuple[str, Event]) -> str:
    return keyed_event[1].recipient_id
