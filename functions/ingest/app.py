"""Kafka ingest: every record becomes its notifications; bad records are reported, never block the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.events import InvalidRecord
from inbox.ingest import Ingestor, events_of
from inbox.observability import count, logger, metrics, tracer

repository = wiring.repository()
processor = BatchProcessor(event_type=EventType.Kafka, raise_on_entire_batch_failure=False)


def make_record_handler(ingestor: Ingestor) -> Callable[[KafkaEventRecord], None]:
    def handle(record: KafkaEventRecord) -> None:
        where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
        try:
            events = events_of(record)
        except InvalidRecord as error:
            count("BadRecords")
            logger.warning("bad record", extra={**where, "reason": str(error)})
            raise
        for event in events:
            ingestor.apply(event)

    return handle


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ingestor = Ingestor(repository)
    response = process_partial_response(
        event=event, record_handler=make_record_handler(ingestor), processor=processor, context=context
    )
    for outcome, metric in (
        ("created", "NotificationsCreated"),
        ("duplicate", "DuplicatesSkipped"),
        ("retracted", "NotificationsRetracted"),
        ("muted", "MutedSkipped"),
        ("self_action", "SelfActionsSkipped"),
    ):
        count(metric, ingestor.outcomes[outcome])
    logger.info(
        "batch ingested", extra={"outcomes": dict(ingestor.outcomes), "failures": len(response["batchItemFailures"])}
    )
    return dict(response)
