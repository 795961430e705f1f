"""A Kafka event source mapping: a consumer group that batches, invokes, retries and commits."""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any

from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaException, TopicPartition

from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.batching import BatchDelivery, Invoke, KafkaFormat, Record, Report
from inbox_dev.event_sources.mappings import KafkaMapping
from inbox_dev.event_sources.poller import FAULT_PAUSE_S, Poller, Stopped

LOGGER = logging.getLogger(__name__)

# Short, so that stop() takes effect within a second or two.
KAFKA_POLL_S = 0.5


# Lambda encodes a header value as a Java byte[]: signed, so "ë" is [-61, -85].
def _java_bytes(value: bytes) -> list[int]:
    return [byte - 256 if byte > 127 else byte for byte in value]


def _base64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode()


_TIMESTAMP_TYPES = {TIMESTAMP_CREATE_TIME: "CREATE_TIME", TIMESTAMP_LOG_APPEND_TIME: "LOG_APPEND_TIME"}


def kafka_record(message: Any) -> Record:
    """A consumed confluent-kafka message as a record of Lambda's Kafka event."""
    timestamp_type, timestamp = message.timestamp()
    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": timestamp,
        "timestampType": _TIMESTAMP_TYPES.get(timestamp_type, "NO_TIMESTAMP_TYPE"),
        "key": _base64(message.key()),
        "value": _base64(message.value()),
        # How Lambda encodes a header without a value is undocumented; an empty value keeps handlers working.
        "headers": [{name: _java_bytes(value or b"")} for name, value in message.headers() or []],
    }


class KafkaPoller(Poller):
    """One Kafka event source mapping: a consumer group that batches, invokes, retries and commits."""

    def __init__(
        self,
        mapping: KafkaMapping,
        *,
        bootstrap_servers: str,
        invoke: Invoke,
        dead_letters: DeadLetters,
        on_error: Report | None = None,
    ) -> None:
        super().__init__(
            f"kafka {mapping.logical_id}",
            source="kafka",
            function=mapping.function,
            invoke=invoke,
            dead_letters=dead_letters,
            on_error=on_error,
        )
        self.mapping = mapping
        self._delivery = BatchDelivery(
            KafkaFormat(bootstrap_servers), self._invoke, mapping.max_retries, report=self._report
        )
        self.ready = threading.Event()
        self._bootstrap_servers = bootstrap_servers
        self._consumer: Any = None

    def start(self) -> None:
        """Join the consumer group; ``ready`` is set once the group has assigned its partitions."""
        self._consumer = Consumer(
            {
                "bootstrap.servers": self._bootstrap_servers,
                "group.id": self.mapping.consumer_group,
                "client.id": self.mapping.logical_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest" if self.mapping.starting_position == "TRIM_HORIZON" else "latest",
                # Tansu assigns a new group's partitions in ~3 s with this, ~20 s with the default.
                "session.timeout.ms": 6000,
                "logger": LOGGER,
            }
        )
        self._consumer.subscribe(list(self.mapping.topics), on_assign=lambda consumer, partitions: self.ready.set())
        super().start()

    def _run(self) -> None:
        batch: list[Record] = []
        try:
            while not self._stopping.is_set():
                try:
                    batch = batch or self._gather()
                    if batch:
                        self._deliver(batch)
                        self._commit(batch)
                        batch = []
                except Stopped:
                    return
                except Exception as error:
                    # A fault of the broker or of the local stack, not of the function: the batch is tried again.
                    self._report(f"{type(error).__name__}: {error}; retrying the batch in {FAULT_PAUSE_S:.0f} s")
                    self._stopping.wait(FAULT_PAUSE_S)
        finally:
            self._consumer.close()

    def _gather(self) -> list[Record]:
        """Up to BatchSize records, for at most MaximumBatchingWindowInSeconds after the first, as Lambda batches."""
        records = self._consume(1, KAFKA_POLL_S)
        if not records:
            return []
        deadline = time.monotonic() + self.mapping.batching_window_s
        while len(records) < self.mapping.batch_size and not self._stopping.is_set():
            left = deadline - time.monotonic()
            more = self._consume(self.mapping.batch_size - len(records), max(0.0, min(left, KAFKA_POLL_S)))
            if not more and left <= 0:
                break
            records += more
        return records

    def _consume(self, count: int, timeout: float) -> list[Record]:
        records = []
        for message in self._consumer.consume(count, timeout=timeout):
            if message.error():
                self._report(f"consumer error: {message.error()}")
            else:
                records.append(kafka_record(message))
        return records

    def _commit(self, records: list[Record]) -> None:
        """Commit past the batch, synchronously: a restarted group resumes after it, as Lambda's does."""
        next_offsets: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record["topic"], record["partition"])
            next_offsets[key] = max(next_offsets.get(key, 0), record["offset"] + 1)
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in next_offsets.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as error:
            # The next batch's commit covers these offsets too; a restart before it redelivers them.
            self._report(f"could not commit offsets {sorted(next_offsets.items())}: {error}")
