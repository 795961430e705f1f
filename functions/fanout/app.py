"""Stream fan-out: each inbox change goes to the recipient's open WebSocket connections and phones."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import aws_clients, wiring
from inbox.batch import SideBySideProcessor
from inbox.delivery.delivery import Delivery, DeliveryReport
from inbox.delivery.stream import StreamFanout, record_key
from inbox.observability import logger, metrics
from inbox.settings import fanout_settings, table_settings

settings = fanout_settings()
store = wiring.store()
delivery = Delivery(
    store.preferences,
    store.audience,
    store.connections,
    store.devices,
    store.queries,
    store.notifications,
    aws_clients.management_api(str(settings.websocket_callback_url), settings.delivery_concurrency),
    aws_clients.sns(),
    settings.delivery_concurrency,
    push_group_interval_ms=settings.push_group_interval_seconds * 1000,
)
processor: SideBySideProcessor[DynamoDBRecord, DeliveryReport] = SideBySideProcessor(
    EventType.DynamoDBStreams, record_key, StreamFanout(delivery, table_settings().region)
)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=processor.report, processor=processor, context=context)
    )
