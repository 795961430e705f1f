"""Ingest throughput: MSK batches through the ingest handler, next to plain BatchWriteItem calls.

A batch mixes every topic, about 10% redeliveries of records earlier in the batch and a few
unlikes of likes it holds. Each run uses recipients of its own, so every first delivery is new.
The floor writes as many items, of the same shape, with BatchWriteItem (25 per call, one
call after another) from the same process: the fastest way to put them in without the
conditional writes that deduplication needs.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from inbox.ingest.producers import SUPPORTED_TOPICS, adapt
from inbox.models import NotificationEvent

from inbox_dev.bench.inprocess import InProcessAws
from inbox_dev.bench.stats import ratio, summary
from inbox_dev.samples import sample_event

BATCH_SIZES = (25, 100, 250, 500)
REPETITIONS = 5
REDELIVERY_SHARE = 0.10
UNLIKE_SHARE = 0.02
UNLIKE_TOPIC = "notifications.post.unlike"
LIKE_TOPICS = ("message-liked", "notifications.post.like")
NOTIFYING_TOPICS = tuple(topic for topic in SUPPORTED_TOPICS if topic != UNLIKE_TOPIC)
# Concurrency 1 is how ingest stored records before it applied recipients side by side.
SEQUENTIAL = 1


def msk_batch(size: int, run: str, rng: random.Random) -> dict[str, Any]:
    """An MSK event of ``size`` records over every topic, with redeliveries and unlikes."""
    event = InProcessAws.event("ingest-msk.json")
    event["records"] = {}
    recipients = [f"{run}-user-{index}" for index in range(max(1, size // 4))]
    values: list[tuple[str, dict[str, Any]]] = []
    likes: list[tuple[str, str, str]] = []
    for index in range(size):
        chance = rng.random()
        if values and chance < REDELIVERY_SHARE:
            topic, value = rng.choice(values)
        elif likes and chance < REDELIVERY_SHARE + UNLIKE_SHARE:
            actor, recipient, post = rng.choice(likes)
            topic, value = UNLIKE_TOPIC, sample_event(UNLIKE_TOPIC, actor=actor, recipient=recipient, resource_id=post)
        else:
            topic = NOTIFYING_TOPICS[index % len(NOTIFYING_TOPICS)]
            actor, recipient = f"actor-{rng.randrange(50)}", rng.choice(recipients)
            post = f"{run}-post-{index}"
            value = sample_event(topic, actor=actor, recipient=recipient, resource_id=post, rng=rng)
            if topic in LIKE_TOPICS:
                likes.append((actor, recipient, post))
        values.append((topic, value))
        partition = event["records"].setdefault(f"{topic}-0", [])
        partition.append(
            {
                "topic": topic,
                "partition": 0,
                "offset": index,
                "timestamp": int(time.time() * 1000),
                "timestampType": "CREATE_TIME",
                "key": None,
                "value": base64.b64encode(json.dumps(value).encode()).decode(),
                "headers": [],
            }
        )
    return event


def floor_items(batch: dict[str, Any], run: str) -> list[dict[str, Any]]:
    """Items of the shape ingest stores, one per notifying event, each under a key of its own."""
    from inbox.settings import table_settings
    from inbox.store.items import entry_item

    ttl_seconds = table_settings().notification_ttl_seconds
    items: list[dict[str, Any]] = []
    for record in (record for records in batch["records"].values() for record in records):
        for event in adapt(record["topic"], base64.b64decode(record["value"]), record["timestamp"]):
            if isinstance(event, NotificationEvent):
                item = entry_item(event, event.notification_id, now_ms=int(time.time() * 1000), ttl_seconds=ttl_seconds)
                item["pk"] = f"{item['pk']}-{run}-{len(items)}"
                items.append(item)
    return items


@contextmanager
def _ingest_concurrency(module: Any, concurrency: int) -> Iterator[None]:
    from aws_lambda_powertools.utilities.batch import EventType
    from inbox import wiring
    from inbox.batch import SideBySideProcessor
    from inbox.ingest.ingestor import Ingestor
    from inbox.ingest.kafka import KafkaIngest, record_key

    store = wiring.store()
    ingestor = Ingestor(store.notifications, store.preferences, store.flood, concurrency)
    regular = module.processor
    module.processor = SideBySideProcessor(EventType.Kafka, record_key, KafkaIngest(ingestor))
    try:
        yield
    finally:
        module.processor = regular


def _timed(action: Any) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def measure(aws: InProcessAws) -> dict[str, Any]:
    module = aws.module("ingest")
    table = aws.table()
    rng = random.Random(20261123)  # noqa: S311 - a reproducible workload
    by_size: dict[str, Any] = {}
    for size in BATCH_SIZES:
        rates: dict[str, list[float]] = {"parallel": [], "sequential": [], "floor": []}
        for repetition in range(REPETITIONS):
            for variant in ("parallel", "sequential"):
                batch = msk_batch(size, f"b{size}-{repetition}-{variant}", rng)
                context = aws.context("IngestFunction")
                if variant == "parallel":
                    elapsed = _timed(lambda batch=batch, context=context: module.lambda_handler(batch, context))
                else:
                    with _ingest_concurrency(module, SEQUENTIAL):
                        elapsed = _timed(lambda batch=batch, context=context: module.lambda_handler(batch, context))
                rates[variant].append(size / elapsed)
            items = floor_items(batch, f"floor-{repetition}")

            def write_all(items: list[dict[str, Any]] = items) -> None:
                with table.batch_writer() as writer:
                    for item in items:
                        writer.put_item(Item=item)

            rates["floor"].append(len(items) / _timed(write_all))
        parallel, sequential, floor = (summary(rates[name], 0) for name in ("parallel", "sequential", "floor"))
        by_size[str(size)] = {
            "records_per_s": parallel,
            "sequential_records_per_s": sequential,
            "floor_items_per_s": floor,
            "floor_ratio": ratio(parallel["median"], floor["median"]),
            "sequential_floor_ratio": ratio(sequential["median"], floor["median"]),
        }
    largest = by_size[str(BATCH_SIZES[-1])]
    return {
        "records_per_s": largest["records_per_s"]["median"],
        "floor_ratio": largest["floor_ratio"],
        "batch_size": BATCH_SIZES[-1],
        "by_batch_size": by_size,
    }
