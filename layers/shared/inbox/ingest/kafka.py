"""A Kafka batch (MSK or self-managed) through the ingest rules: bad records are reported, never block the rest."""

from __future__ import annotations

import binascii
from collections import Counter
from collections.abc import Mapping

from aws_lambda_powertools.utilities.data_classes.kafka_event import KafkaEventRecord

from inbox.ingest.ingestor import Event, Ingestor, RecordOutcome
from inbox.ingest.outcomes import METRIC_OF
from inbox.ingest.producers import InvalidRecord, adapt
from inbox.observability import count, logger


def record_key(record: KafkaEventRecord) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"


def events_of(record: KafkaEventRecord) -> list[Event]:
    """The canonical events of a record; InvalidRecord if there are none."""
    if record.raw_event.get("value") is None:
        # A tombstone (a key with a null value) or a record handed over without its value.
        raise InvalidRecord("value is null")
    try:
        raw = record.decoded_value
    except (binascii.Error, ValueError) as error:
        raise InvalidRecord(f"value is not valid base64: {error}") from None
    return adapt(record.topic, raw, record.timestamp)


class KafkaIngest:
    """Applies a batch's records and reports each record's outcome, counted once per batch."""

    def __init__(self, ingestor: Ingestor) -> None:
        self._ingestor = ingestor

    def __call__(self, records: list[KafkaEventRecord]) -> Mapping[str, RecordOutcome]:
        readable: list[tuple[str, list[Event]]] = []
        unreadable: dict[str, RecordOutcome] = {}
        for record in records:
            try:
                readable.append((record_key(record), events_of(record)))
            except InvalidRecord as error:
                count("BadRecords")
                where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
                logger.warning("bad record", extra={**where, "reason": str(error)})
                unreadable[record_key(record)] = error
        outcomes = self._ingestor.apply_all(readable)
        for key, outcome in outcomes.items():
            if isinstance(outcome, Exception):
                logger.warning("record not stored", extra={"record": key, "reason": repr(outcome)})
        tally = Counter(result for outcome in outcomes.values() if isinstance(outcome, list) for result in outcome)
        for result, metric in METRIC_OF.items():
            count(metric, tally[result])
        failures = len(unreadable) + sum(isinstance(outcome, Exception) for outcome in outcomes.values())
        logger.info("batch ingested", extra={"outcomes": dict(tally), "failures": failures})
        return {**outcomes, **unreadable}
