"""The local stack's pollers stopped or crashed mid-stream and started again: nothing skipped, nothing shown twice.

The Kafka poller is a consumer group that commits after each batch; the stream poller checkpoints
each shard (StreamCheckpoints). A restarted poller resumes from there, as Lambda's event source
mappings do. A crash is a poller thread that dies right after its function ran, before the commit or
checkpoint: the batch comes again, and must leave no visible duplicate (Kafka: the conditional put
makes it a no-op) or only duplicates a client drops by notification id (the stream).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from inbox.api.reader import InboxReader
from inbox.store import Store
from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.kafka_poller import KafkaPoller
from inbox_dev.event_sources.mappings import kafka_mappings, stream_mappings
from inbox_dev.event_sources.stream_poller import StreamCheckpoints, StreamPoller
from inbox_dev.processes import free_port
from inbox_dev.stack import create_topics, tansu_broker

from tests.conftest import TABLE_NAME
from tests.integration.helpers import kafka_event, like

pytestmark = pytest.mark.integration

Function = Callable[[dict[str, Any]], Any]
TOPIC = "message-liked"


class Crash(BaseException):
    """Ends a poller's thread where it is raised, as a killed process ends: no commit, no checkpoint after it."""


def crash_after(function: Function, crashes: int = 1) -> tuple[Function, list[dict[str, Any]]]:
    """``function`` that ends its poller's thread right after each of its first ``crashes`` runs; the events it ran."""
    crashed: list[dict[str, Any]] = []

    def run(event: dict[str, Any]) -> Any:
        result = function(event)
        if len(crashed) < crashes:
            crashed.append(event)
            raise Crash
        return result

    return run, crashed


def recording(function: Function) -> tuple[Function, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def run(event: dict[str, Any]) -> Any:
        events.append(event)
        return function(event)

    return run, events


def like_id(actor: str, user: str) -> str:
    """What names a like's notification in these tests: its actor (each actor likes a post of its own once)."""
    return actor


def created_ids(stub: Any, tab: str) -> list[str]:
    """The actors of the new entries a tab was sent, in order (one like each)."""
    return [
        message["notification"]["actor"]["id"]
        for message in stub.messages[tab]
        if message["type"] == "notification.created"
    ]


def wait_for(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"not the case within {timeout:.0f} s")
        time.sleep(0.05)
    return value


def received_through(stub: Any, tab: str, last: str) -> list[str]:
    """The ids of the new notifications a tab was sent, once ``last``, known to come last, is among them.

    A test sends ``last`` after everything else has arrived. Each shard and partition is delivered in
    order, so a record delivered again arrives before ``last``, where the test sees it.
    """
    wait_for(lambda: last in created_ids(stub, tab))
    return created_ids(stub, tab)


class Pipeline:
    """Kafka → ingest function → table → stream → fan-out function → Management API stub, with the local
    stack's pollers, each of which a test can stop, crash and start again."""

    def __init__(self, kafka: str, group: str, ingest: Function, fanout: Function, checkpoints: StreamCheckpoints):
        [mapping] = [mapping for mapping in kafka_mappings() if mapping.topics == (TOPIC,)]
        # The template's mapping, in smaller batches so that a stream of a few dozen records spans several.
        self.kafka_mapping = dataclasses.replace(mapping, consumer_group=group, batch_size=4, batching_window_s=0.2)
        [self.stream_mapping] = [mapping for mapping in stream_mappings() if mapping.function == "FanoutFunction"]
        self.kafka, self.ingest, self.fanout, self.checkpoints = kafka, ingest, fanout, checkpoints
        self.dead_letters = DeadLetters()
        self._pollers: list[KafkaPoller | StreamPoller] = []
        self._producer = Producer({"bootstrap.servers": kafka})

    def start_kafka(self, invoke: Function | None = None) -> KafkaPoller:
        poller = KafkaPoller(
            self.kafka_mapping,
            bootstrap_servers=self.kafka,
            invoke=invoke or self.ingest,
            dead_letters=self.dead_letters,
        )
        self._pollers.append(poller)
        poller.start()
        assert poller.ready.wait(30), "the consumer group assigned no partition within 30 s"
        return poller

    def start_stream(self, invoke: Function | None = None) -> StreamPoller:
        poller = StreamPoller(
            self.stream_mapping,
            table_name=TABLE_NAME,
            invoke=invoke or self.fanout,
            dead_letters=self.dead_letters,
            checkpoints=self.checkpoints,
        )
        self._pollers.append(poller)
        poller.start()
        return poller

    def produce(self, records: list[tuple[str, bytes]], per_second: float) -> threading.Thread:
        """Produce the records at a steady pace, in the background, whatever the pollers do meanwhile."""

        def run() -> None:
            for topic, value in records:
                self._producer.produce(topic, value=value)
                self._producer.flush(10)
                time.sleep(1 / per_second)

        thread = threading.Thread(target=run, name="producer", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        for poller in self._pollers:
            poller.stop()

    def close(self) -> None:
        self.stop()
        self._producer.close()  # an open client holds the broker's shutdown for seconds


@pytest.fixture
def quiet_crashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Crash ends its thread without a report: it is the test's doing."""
    report = threading.excepthook

    def hook(args: Any) -> None:
        if args.exc_type is not Crash:
            report(args)

    monkeypatch.setattr(threading, "excepthook", hook)


@pytest.fixture
def kafka() -> Iterator[str]:
    """A broker of the test's own (Tansu, in memory, as `make dev` runs it) with the template's topic."""
    with tansu_broker("127.0.0.1", free_port()) as servers:
        create_topics(servers, [TOPIC])
        yield servers


@pytest.fixture
def ingest(function: Any, context: Any) -> Function:
    handler = function("ingest").lambda_handler
    return lambda event: handler(event, context)


@pytest.fixture
def fanout(function: Any, context: Any) -> Function:
    handler = function("fanout").lambda_handler
    return lambda event: handler(event, context)


@pytest.fixture
def stream_endpoint(dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", dynamodb_endpoint)


@pytest.fixture
def pipeline(
    kafka: str, ingest: Function, fanout: Function, stream_endpoint: None, stub: Any, user: str
) -> Iterator[Pipeline]:
    pipeline = Pipeline(kafka, f"restart-{user}", ingest, fanout, StreamCheckpoints())
    yield pipeline
    pipeline.close()


@pytest.fixture
def stream_pollers(fanout: Function, stream_endpoint: None, stub: Any) -> Iterator[list[StreamPoller]]:
    """Stream pollers a test starts, stopped at its end."""
    pollers: list[StreamPoller] = []
    yield pollers
    for poller in pollers:
        poller.stop()


def start_stream(pollers: list[StreamPoller], invoke: Function, checkpoints: StreamCheckpoints) -> StreamPoller:
    [mapping] = [mapping for mapping in stream_mappings() if mapping.function == "FanoutFunction"]
    poller = StreamPoller(
        mapping, table_name=TABLE_NAME, invoke=invoke, dead_letters=DeadLetters(), checkpoints=checkpoints
    )
    pollers.append(poller)
    poller.start()
    return poller


def ingest_likes(ingest: Function, user: str, actors: list[str]) -> list[str]:
    """The actors' likes of the user's post, ingested as one Kafka batch each; their notification ids."""
    for actor in actors:
        assert ingest(kafka_event(like(actor, user))) == {"batchItemFailures": []}
    return [like_id(actor, user) for actor in actors]


# -- the stream poller ------------------------------------------------------------------------------


def test_a_stream_poller_restarted_mid_stream_resumes_after_the_last_record_it_handled(
    stream_pollers: list[StreamPoller],
    ingest: Function,
    fanout: Function,
    stub: Any,
    store: Store,
    tmp_path: Path,
    user: str,
) -> None:
    # Given the user's tab, and the fan-out mapping's poller keeping its checkpoints in a file
    tab = f"{user}-tab"
    store.connections.add(user, tab)
    path = tmp_path / "stream-checkpoints.json"
    first = start_stream(stream_pollers, fanout, StreamCheckpoints(path))

    # When five notifications are delivered, the poller stops, five more are stored meanwhile, and a
    # new poller (as after a restart: checkpoints read back from the file) starts, and five more come
    before = ingest_likes(ingest, user, [f"early-{index}" for index in range(5)])
    wait_for(lambda: len(created_ids(stub, tab)) == 5)
    first.stop()
    meanwhile = ingest_likes(ingest, user, [f"meanwhile-{index}" for index in range(5)])
    start_stream(stream_pollers, fanout, StreamCheckpoints(path))
    after = ingest_likes(ingest, user, [f"late-{index}" for index in range(5)])

    # Then the tab gets all fifteen, each once, in the order they were stored: none skipped, none again
    wait_for(lambda: len(created_ids(stub, tab)) >= 15)
    [last] = ingest_likes(ingest, user, ["last"])
    assert received_through(stub, tab, last) == [*before, *meanwhile, *after, last]


def test_a_stream_poller_restarted_before_it_read_anything_misses_nothing_stored_since_its_first_start(
    stream_pollers: list[StreamPoller], ingest: Function, fanout: Function, stub: Any, store: Store, user: str
) -> None:
    # Given notifications stored before the fan-out mapping ever ran (its starting position is LATEST)
    tab = f"{user}-tab"
    store.connections.add(user, tab)
    ingest_likes(ingest, user, ["old-0", "old-1"])
    checkpoints = StreamCheckpoints()

    # When its poller starts and stops at once, two notifications are stored, and a new poller starts
    start_stream(stream_pollers, fanout, checkpoints).stop()
    meanwhile = ingest_likes(ingest, user, ["new-0", "new-1"])
    start_stream(stream_pollers, fanout, checkpoints)

    # Then the tab gets the two stored after the first start, and not the older ones
    wait_for(lambda: len(created_ids(stub, tab)) >= 2)
    [last] = ingest_likes(ingest, user, ["last"])
    assert received_through(stub, tab, last) == [*meanwhile, last]


def test_a_stream_poller_that_crashes_after_its_function_ran_sends_that_batch_again_and_nothing_else(
    stream_pollers: list[StreamPoller],
    ingest: Function,
    fanout: Function,
    stub: Any,
    store: Store,
    quiet_crashes: None,
    user: str,
) -> None:
    # Given the user's tab, and a poller whose thread dies right after its first fan-out, before its checkpoint
    tab = f"{user}-tab"
    store.connections.add(user, tab)
    checkpoints = StreamCheckpoints()
    crashing, crashed = crash_after(fanout)
    start_stream(stream_pollers, crashing, checkpoints)

    # When three notifications are stored and it crashes, three more are stored, and a new poller starts
    stored = ingest_likes(ingest, user, ["ann", "ben", "cat"])
    wait_for(lambda: crashed)
    stored += ingest_likes(ingest, user, ["dan", "eve", "fay"])
    start_stream(stream_pollers, fanout, checkpoints)

    # Then every notification reached the tab; only the crashed batch's came twice, under the same ids,
    # which the client drops: its inbox shows each notification once
    wait_for(lambda: set(created_ids(stub, tab)) == set(stored))
    [last] = ingest_likes(ingest, user, ["last"])
    received = received_through(stub, tab, last)
    in_crashed_batch = {record["dynamodb"]["NewImage"]["a0"]["M"]["i"]["S"] for record in crashed[0]["Records"]}
    twice = {notification_id for notification_id, times in Counter(received).items() if times > 1}
    assert twice == in_crashed_batch
    assert max(Counter(received).values()) == 2
    assert list(dict.fromkeys(received)) == [*stored, last]


# -- the Kafka poller and the whole pipeline -----------------------------------------------------------


def test_both_pollers_stopped_mid_stream_and_restarted_deliver_every_notification_exactly_once(
    pipeline: Pipeline, stub: Any, store: Store, user: str, reader: InboxReader
) -> None:
    # Given the user's tab, and the Kafka and stream pollers running
    tab = f"{user}-tab"
    store.connections.add(user, tab)
    pipeline.start_kafka()
    pipeline.start_stream()

    # When 15 likes are produced, both pollers are stopped once the first reached the tab, 15 more are
    # produced while they are down, and new pollers start
    actors = [f"actor-{index:02d}" for index in range(30)]
    pipeline.produce([like(actor, user) for actor in actors[:15]], per_second=15).join()
    wait_for(lambda: created_ids(stub, tab))
    pipeline.stop()
    pipeline.produce([like(actor, user) for actor in actors[15:]], per_second=15).join()
    pipeline.start_kafka()
    pipeline.start_stream()

    # Then the tab got each of the 30 notifications exactly once, those produced while the pollers
    # were down included, and then the last like's
    wait_for(lambda: len(created_ids(stub, tab)) >= 30)
    pipeline.produce([like("last", user)], per_second=15).join()
    received = received_through(stub, tab, like_id("last", user))
    assert sorted(received) == sorted(like_id(actor, user) for actor in [*actors, "last"])
    # And the inbox counts them unread, the last one included
    assert reader.unread_count(user).count == 31


def test_a_kafka_poller_that_crashes_before_committing_redelivers_its_batch_without_a_second_notification(
    pipeline: Pipeline, ingest: Function, stub: Any, store: Store, quiet_crashes: None, user: str, reader: InboxReader
) -> None:
    # Given the user's tab, the stream poller, and a Kafka poller whose thread dies right after the ingest
    # function ran its first batch, before the consumer group's commit
    tab = f"{user}-tab"
    store.connections.add(user, tab)
    pipeline.start_stream()
    crashing, crashed = crash_after(ingest)
    pipeline.start_kafka(crashing)

    # When twelve likes are produced, the poller crashes, and a new one of the same group starts
    actors = [f"actor-{index:02d}" for index in range(12)]
    producing = pipeline.produce([like(actor, user) for actor in actors], per_second=30)
    wait_for(lambda: crashed)
    second, events = recording(ingest)
    pipeline.start_kafka(second)
    producing.join()

    # Then the new poller was handed the crashed batch again (it was never committed)
    expected = sorted(like_id(actor, user) for actor in actors)
    wait_for(lambda: len(created_ids(stub, tab)) >= len(expected))
    pipeline.produce([like("last", user)], per_second=15).join()
    received = received_through(stub, tab, like_id("last", user))

    def offsets(event: dict[str, Any]) -> set[int]:
        return {record["offset"] for records in event["records"].values() for record in records}

    assert offsets(crashed[0]) <= set().union(*(offsets(event) for event in events))
    # And yet the tab got each notification once: the redelivered likes were already stored
    assert sorted(received) == sorted([*expected, like_id("last", user)])
    assert reader.unread_count(user).count == len(expected) + 1
