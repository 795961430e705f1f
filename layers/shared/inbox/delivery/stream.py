"""A DynamoDB Streams batch through delivery: every change to the recipient's sockets and phones."""

from __future__ import annotations

from collections.abc import Mapping

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from inbox.delivery.changes import InboxChange, change_of
from inbox.delivery.delivery import Delivery, DeliveryOutcome, DeliveryReport
from inbox.observability import count, logger


def record_key(record: DynamoDBRecord) -> str:
    return str(record.dynamodb.sequence_number if record.dynamodb else record.event_id)


class StreamFanout:
    """Delivers a batch's changes and reports each record's outcome; metrics counted once per batch."""

    def __init__(self, delivery: Delivery, region: str) -> None:
        self._delivery = delivery
        self._region = region

    def __call__(self, records: list[DynamoDBRecord]) -> Mapping[str, DeliveryOutcome]:
        changes: list[tuple[str, InboxChange | None]] = []
        unreadable: dict[str, DeliveryOutcome] = {}
        for record in records:
            try:
                changes.append((record_key(record), change_of(record, self._region)))
            except (KeyError, ValueError, TypeError) as error:
                unreadable[record_key(record)] = error
        outcomes = {**self._delivery.deliver_all(changes), **unreadable}
        for key, outcome in outcomes.items():
            if isinstance(outcome, Exception):
                logger.warning("record not delivered", extra={"sequence": key, "reason": repr(outcome)})
        reports = [outcome for outcome in outcomes.values() if isinstance(outcome, DeliveryReport)]
        count("WebSocketMessagesSent", sum(report.sent for report in reports))
        count("WebSocketMessagesDropped", sum(report.dropped for report in reports))
        count("GoneConnections", sum(len(report.gone) for report in reports))
        count("PushesSent", sum(report.pushed for report in reports))
        count("DisabledEndpoints", sum(len(report.disabled_devices) for report in reports))
        return outcomes
