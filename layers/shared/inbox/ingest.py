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
from collections import Counter
from typing import TYPE_CHECKING

from inbox.events import InvalidRecord, adapt
from inbox.models import NotificationEvent, Preferences, Retraction

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


class Ingestor:
    """Applies events for one batch; preferences are read once per recipient per batch."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._preferences: dict[str, Preferences] = {}
        self.outcomes: Counter[str] = Counter()

    def _muted(self, event: NotificationEvent) -> bool:
        recipient = event.recipient_id
        if recipient not in self._preferences:
            self._preferences[recipient] = self._repository.preferences(recipient)
        return event.type in self._preferences[recipient].muted_types

    def apply(self, event: NotificationEvent | Retraction) -> str:
        if isinstance(event, Retraction):
            outcome = "retracted" if self._repository.retract(event) else "nothing_to_retract"
        elif event.is_self_action:
            outcome = "self_action"
        elif self._muted(event):
            outcome = "muted"
        else:
            outcome = "created" if self._repository.store(event) else "duplicate"
        self.outcomes[outcome] += 1
        return outcome
