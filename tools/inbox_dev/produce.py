"""JSON Lines to a Kafka topic, one record per line: what `make produce` sends to the running stack's broker."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from confluent_kafka import KafkaError, Producer

# The broker's answers come within seconds on loopback; a minute allows for a remote cluster.
DELIVERY_TIMEOUT_S = 60


class BadLine(ValueError):
    """A line of the input is not JSON: nothing of the input is sent."""


class NotSent(RuntimeError):
    """The broker did not take every record."""


def json_lines(lines: Iterable[bytes]) -> list[bytes]:
    """The input's non-blank lines, each checked to be JSON, as the records to send."""
    records = []
    for number, line in enumerate(lines, start=1):
        record = line.strip()
        if not record:
            continue
        try:
            json.loads(record)
        except ValueError as error:  # not UTF-8, or not JSON
            raise BadLine(f"line {number} is not JSON ({error})") from None
        records.append(record)
    return records


def send(bootstrap_servers: str, topic: str, records: Sequence[bytes]) -> int:
    """Send the records to an existing topic, in order, and wait for the broker to take each; how many it took."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "linger.ms": 5,
            "message.timeout.ms": DELIVERY_TIMEOUT_S * 1000,
        }
    )
    topics = producer.list_topics(timeout=10).topics
    if topic not in topics:
        known = sorted(name for name in topics if not name.startswith("__"))  # not the broker's internal ones
        raise NotSent(f"the broker has no topic {topic!r}; it has {', '.join(known) or 'none'}")
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Any) -> None:
        if error is not None:
            failures.append(error)

    for record in records:
        while True:
            try:
                producer.produce(topic, value=record, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(1)
        producer.poll(0)
    unsent = producer.flush(DELIVERY_TIMEOUT_S)
    taken = len(records) - unsent - len(failures)
    if unsent or failures:
        reason = failures[0].str() if failures else f"no answer within {DELIVERY_TIMEOUT_S} s"
        raise NotSent(f"{taken} of {len(records)} records were sent to {topic}; the rest failed: {reason}")
    return taken
