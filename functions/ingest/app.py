"""Kafka ingest: every record becomes its notifications; bad records are reported, never block the rest."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.batch import SideBySideProcessor
from inbox.ingest.flood import FloodLimits
from inbox.ingest.ingestor import Ingestor, RecordOutcome
from inbox.ingest.kafka import KafkaIngest, record_key
from inbox.observability import logger, metrics
from inbox.settings import ingest_settings

settings = ingest_settings()
store = wiring.store()
ingestor = Ingestor(
    store.notifications,
    store.preferences,
    store.flood,
    settings.ingest_concurrency,
    FloodLimits(settings.flood_actor_limit, settings.flood_recipient_limit, settings.flood_window_seconds),
    group_window_seconds=settings.group_window_seconds,
)
processor: SideBySideProcessor[KafkaEventRecord, RecordOutcome] = SideBySideProcessor(
    EventType.Kafka, record_key, KafkaIngest(ingestor)
)


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=processor.report, processor=processor, context=context)
    )
