"""Stream fan-out: each inbox change goes to the recipient's open WebSocket connections and phones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import clients, wiring
from inbox.changes import InboxChange, change_of
from inbox.delivery import Delivery, DeliveryReport, Outcome
from inbox.observability import count, logger, metrics
from inbox.settings import fanout_settings, table_settings

settings = fanout_settings()
region = table_settings().region
delivery = Delivery(
    wiring.repository(),
    clients.management_api(str(settings.websocket_callback_url), settings.delivery_concurrency),
    clients.sns(),
    settings.delivery_concurrency,
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def make_record_handler(outcomes: dict[str, Outcome]) -> Callable[[DynamoDBRecord], None]:
    """Report each record's delivery, done for the whole batch beforehand, as Powertools expects."""

    def handle(record: DynamoDBRecord) -> None:
        outcome = outcomes[record_key(record)]
        if isinstance(outcome, Exception):
            logger.warning("record not delivered", extra={"sequence": record_key(record), "reason": repr(outcome)})
            raise outcome

    return handle


def record_key(record: DynamoDBRecord) -> str:
    return str(record.dynamodb.sequence_number if record.dynamodb else record.event_id)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    changes: list[tuple[str, InboxChange | None]] = []
    unreadable: dict[str, Outcome] = {}
    for record in (DynamoDBRecord(raw) for raw in event.get("Records", [])):
        try:
            changes.append((record_key(record), change_of(record, region)))
        except (KeyError, ValueError, TypeError) as error:
            unreadable[record_key(record)] = error
    outcomes = {**delivery.deliver_all(changes), **unreadable}
    response = process_partial_response(
        event=event, record_handler=make_record_handler(outcomes), processor=processor, context=context
    )
    # One value per metric per batch, not per record.
    reports = [outcome for outcome in outcomes.values() if isinstance(outcome, DeliveryReport)]
    count("WebSocketMessagesSent", sum(report.sent for report in reports))
    count("GoneConnections", sum(len(report.gone) for report in reports))
    count("PushesSent", sum(report.pushed for report in reports))
    count("DisabledEndpoints", sum(len(report.disabled_devices) for report in reports))
    return dict(response)
