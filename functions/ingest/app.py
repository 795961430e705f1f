"""Kafka ingest: every record becomes its notifications; bad records are reported, never block the rest."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEvent, KafkaEventRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import wiring
from inbox.events import InvalidRecord
from inbox.ingest import Event, FloodLimits, Ingestor, RecordOutcome, events_of
from inbox.observability import count, logger, metrics
from inbox.settings import ingest_settings

settings = ingest_settings()
ingestor = Ingestor(
    wiring.repository(),
    settings.ingest_concurrency,
    FloodLimits(settings.flood_actor_limit, settings.flood_recipient_limit, settings.flood_window_seconds),
)
processor = BatchProcessor(event_type=EventType.Kafka, raise_on_entire_batch_failure=False)
OUTCOME_METRICS = {
    "created": "NotificationsCreated",
    "duplicate": "DuplicatesSkipped",
    "retracted": "NotificationsRetracted",
    "muted": "MutedSkipped",
    "self_action": "SelfActionsSkipped",
    "flood_dropped": "FloodDropped",
}


def record_key(record: KafkaEventRecord) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"


def make_record_handler(outcomes: dict[str, RecordOutcome]) -> Callable[[KafkaEventRecord], None]:
    """Report each record's outcome, applied for the whole batch beforehand, as Powertools expects."""

    def handle(record: KafkaEventRecord) -> None:
        outcome = outcomes[record_key(record)]
        if isinstance(outcome, InvalidRecord):
            raise outcome  # logged as a bad record when it was read
        if isinstance(outcome, Exception):
            logger.warning("record not stored", extra={"record": record_key(record), "reason": repr(outcome)})
            raise outcome

    return handle


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    readable: list[tuple[str, list[Event]]] = []
    unreadable: dict[str, RecordOutcome] = {}
    for record in KafkaEvent(event).records:
        try:
            readable.append((record_key(record), events_of(record)))
        except InvalidRecord as error:
            count("BadRecords")
            where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
            logger.warning("bad record", extra={**where, "reason": str(error)})
            unreadable[record_key(record)] = error
    outcomes = {**ingestor.apply_all(readable), **unreadable}
    response = process_partial_response(
        event=event, record_handler=make_record_handler(outcomes), processor=processor, context=context
    )
    tally = Counter(result for outcome in outcomes.values() if isinstance(outcome, list) for result in outcome)
    for outcome, metric in OUTCOME_METRICS.items():
        count(metric, tally[outcome])
    logger.info("batch ingested", extra={"outcomes": dict(tally), "failures": len(response["batchItemFailures"])})
    return dict(response)
