"""Stream fan-out: each inbox change goes to the recipient's open WebSocket connections and phones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import clients, wiring
from inbox.changes import change_of
from inbox.delivery import Delivery
from inbox.observability import count, logger, metrics, tracer
from inbox.settings import fanout_settings

settings = fanout_settings()
delivery = Delivery(
    wiring.repository(),
    clients.management_api(str(settings.websocket_callback_url), settings.delivery_concurrency),
    clients.sns(),
    ThreadPoolExecutor(max_workers=settings.delivery_concurrency),
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord) -> None:
    change = change_of(record)
    if change is None:
        return
    report = delivery.deliver(change)
    count("WebSocketMessagesSent", report.sent)
    count("GoneConnections", len(report.gone))
    count("PushesSent", report.pushed)
    count("DisabledEndpoints", len(report.disabled_devices))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
