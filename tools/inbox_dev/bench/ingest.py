"""Ingest throughput: MSK batches through the ingest handler, next to the writes they need alone.

A batch mixes every topic, about 10% redeliveries of records earlier in the batch and a few
unlikes of likes it holds. Each run uses recipients of its own, so every first delivery is new.

* The exactly-once floor issues the same records' own writes (a member put and a group update
  for a grouped action, a conditional put for an entry of its own or a redelivery, an unlike's
  undo) from this process with the ingest function's concurrency, recipients side by side as
  ingest applies them: everything ingest does beyond that (decoding, preferences, flood control,
  group lookups) is what the ratio prices. Its batch is the same records for other recipients,
  written right after the handler's run; the ratio is the median of those pairs.
* The BatchWriteItem reference writes as many items, of the same shape, 25 per call, one call
  after another: the fastest way in without the conditional writes deduplication needs.
* Requests per stored notification count every DynamoDB request of the handler's runs; the
  overhead is the requests that are not writes (preferences, flood windows, group lookups). Each
  run's recipients are new to the container, so each costs a flood read (the worst case); the
  same recipients' next batch in the same container is measured beside it.
"""

from __future__ import annotations

import base64
import json
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from inbox.batch import in_order_per_key
from inbox.ingest.grouping import group_entry_id, group_key
from inbox.ingest.producers import SUPPORTED_TOPICS, adapt
from inbox.models import NotificationEvent, Retraction

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
# The entries' own requests: everything else a batch sends is overhead.
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem"})


def msk_batch(size: int, run: str, rng: random.Random, posts: str | None = None) -> dict[str, Any]:
    """An MSK event of ``size`` records over every topic, with redeliveries and unlikes, for the
    run's recipients; ``posts`` names the resources (the run's by default)."""
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
            post = f"{posts or run}-post-{index}"
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


def batch_events(batch: dict[str, Any]) -> list[NotificationEvent | Retraction]:
    """The batch's events in record order, decoded as ingest decodes them."""
    return [
        event
        for records in batch["records"].values()
        for record in records
        for event in adapt(record["topic"], base64.b64decode(record["value"]), record["timestamp"])
    ]


def stored_notifications(batch: dict[str, Any]) -> int:
    """Notifications the batch stores: its actions, each once however often it is redelivered."""
    return len(
        {
            event.notification_id
            for event in batch_events(batch)
            if isinstance(event, NotificationEvent) and not event.is_self_action
        }
    )


class RequestCounter:
    """Every DynamoDB request of a client, by operation: a botocore hook, failed conditional writes included."""

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.by_operation[model.name] += 1

    @contextmanager
    def counting(self, client: Any) -> Iterator[None]:
        client.meta.events.register("after-call.dynamodb", self._count)
        try:
            yield
        finally:
            client.meta.events.unregister("after-call.dynamodb", self._count)

    def overhead(self) -> Counter[str]:
        return Counter({name: count for name, count in self.by_operation.items() if name not in WRITE_OPERATIONS})


def own_writes(module: Any, events: list[NotificationEvent | Retraction]) -> Any:
    """The events' own writes as ingest issues them, with its concurrency and nothing else: the
    group is the current bucket's (no lookup), no preferences, no flood control."""
    notifications = module.store.notifications
    window_ms = module.settings.group_window_seconds * 1000
    pool = ThreadPoolExecutor(max_workers=module.settings.ingest_concurrency)

    def apply(recipient_events: list[NotificationEvent | Retraction]) -> None:
        for event in recipient_events:
            if isinstance(event, Retraction):
                notifications.retract(event)
                continue
            if event.is_self_action:
                continue
            now = int(time.time() * 1000)
            group = group_key(event)
            if group is None:
                notifications.put(event, at_ms=now)
            else:
                entry_id = group_entry_id(event.recipient_id, group, now // window_ms)
                notifications.add_to_group(event, entry_id, at_ms=now)

    return lambda: in_order_per_key(pool, events, lambda event: event.recipient_id, apply)


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
    client = module.store.table.meta.client
    rng = random.Random(20261123)  # noqa: S311 - a reproducible workload
    by_size: dict[str, Any] = {}
    for size in BATCH_SIZES:
        rates: dict[str, list[float]] = {"parallel": [], "sequential": [], "exactly_once": [], "floor": []}
        first, known = RequestCounter(), RequestCounter()
        notifications = {"first": 0, "known": 0}
        for repetition in range(REPETITIONS):
            seed = rng.random()
            run = f"b{size}-{repetition}"
            # The handler's run, counted, and the same records for other recipients, their own writes
            # alone, one right after the other; which goes first alternates, so that neither always
            # meets the table as the other left it.
            batch = msk_batch(size, f"{run}-parallel", random.Random(seed))  # noqa: S311
            context = aws.context("IngestFunction")
            write = own_writes(module, batch_events(msk_batch(size, f"{run}-exactly-once", random.Random(seed))))  # noqa: S311
            if repetition % 2:
                rates["exactly_once"].append(size / _timed(write))
            with first.counting(client):
                elapsed = _timed(lambda batch=batch, context=context: module.lambda_handler(batch, context))
            rates["parallel"].append(size / elapsed)
            notifications["first"] += stored_notifications(batch)
            if not repetition % 2:
                rates["exactly_once"].append(size / _timed(write))
            # Then the same recipients' next batch in the same container.
            following = msk_batch(size, f"{run}-parallel", random.Random(seed + 1), posts=f"{run}-next")  # noqa: S311
            with known.counting(client):
                module.lambda_handler(following, context)
            notifications["known"] += stored_notifications(following)
            sequential = msk_batch(size, f"{run}-sequential", rng)
            with _ingest_concurrency(module, SEQUENTIAL):
                elapsed = _timed(lambda batch=sequential, context=context: module.lambda_handler(batch, context))
            rates["sequential"].append(size / elapsed)
            items = floor_items(batch, f"floor-{repetition}")

            def write_all(items: list[dict[str, Any]] = items) -> None:
                with table.batch_writer() as writer:
                    for item in items:
                        writer.put_item(Item=item)

            rates["floor"].append(len(items) / _timed(write_all))
        parallel, sequential, exactly_once, floor = (
            summary(rates[name], 0) for name in ("parallel", "sequential", "exactly_once", "floor")
        )
        by_size[str(size)] = {
            "records_per_s": parallel,
            "sequential_records_per_s": sequential,
            "exactly_once_records_per_s": exactly_once,
            # Each run against the floor run right after it: the machine's load drifts between runs.
            "exactly_once_ratio": round(
                statistics.median(
                    handler / alone for handler, alone in zip(rates["parallel"], rates["exactly_once"], strict=True)
                ),
                3,
            ),
            "floor_items_per_s": floor,
            "floor_ratio": ratio(parallel["median"], floor["median"]),
            "sequential_floor_ratio": ratio(sequential["median"], floor["median"]),
            "requests_per_notification": round(sum(first.by_operation.values()) / notifications["first"], 3),
            "overhead_requests_per_notification": round(sum(first.overhead().values()) / notifications["first"], 3),
            "overhead_by_operation": {
                name: round(count / notifications["first"], 3) for name, count in sorted(first.overhead().items())
            },
            "known_recipients_overhead_requests_per_notification": round(
                sum(known.overhead().values()) / notifications["known"], 3
            ),
            "known_recipients_overhead_by_operation": {
                name: round(count / notifications["known"], 3) for name, count in sorted(known.overhead().items())
            },
        }
    largest = by_size[str(BATCH_SIZES[-1])]
    return {
        "records_per_s": largest["records_per_s"]["median"],
        "exactly_once_ratio": largest["exactly_once_ratio"],
        "requests_per_notification": largest["requests_per_notification"],
        "overhead_requests_per_notification": largest["overhead_requests_per_notification"],
        "floor_ratio": largest["floor_ratio"],
        "batch_size": BATCH_SIZES[-1],
        "by_batch_size": by_size,
    }
