"""The event source mappings' logic: the template's mappings, Lambda event filtering, retries and dead letters."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.batching import KAFKA_CLUSTER_ARN, BatchDelivery, KafkaFormat, StreamFormat
from inbox_dev.event_sources.filters import matches_filter, passes_filters
from inbox_dev.event_sources.kafka_poller import KafkaPoller, kafka_record
from inbox_dev.event_sources.mappings import KAFKA_WINDOW_VARIABLE, kafka_mappings, stream_mappings
from inbox_dev.event_sources.poller import INVOCATION_LOG_VARIABLE
from inbox_dev.event_sources.stream_poller import stream_record
from inbox_dev.runtime import FunctionError

from tests.conftest import load_event

TOPICS = {
    "message-liked",
    "user-followed",
    "post-reposted",
    "post-created",
    "notifications.post.like",
    "notifications.post.unlike",
    "notifications.comment.like",
    "notifications.reply.post",
    "notifications.reply.comment",
}


# -- the template's mappings ---------------------------------------------------------------


def test_each_self_managed_kafka_mapping_becomes_a_consumer_group_of_its_own() -> None:
    # When the template's Kafka mappings are read
    mappings = kafka_mappings()

    # Then the nine self-managed ones (not their MSK twins) feed the ingest function, one group per topic
    assert len(mappings) == 9
    assert {topic for mapping in mappings for topic in mapping.topics} == TOPICS
    for mapping in mappings:
        assert mapping.logical_id.startswith("IngestFromKafka")
        [topic] = mapping.topics
        assert mapping.consumer_group == f"notification-inbox-{topic}"
        assert (mapping.function, mapping.starting_position) == ("IngestFunction", "TRIM_HORIZON")
        assert (mapping.batch_size, mapping.batching_window_s) == (500, 0.0)
        # The template leaves retries to Lambda's default (forever): locally a poison batch must end
        assert mapping.max_retries == 2


def test_the_developer_sets_the_kafka_batching_window_of_the_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the local stack's window option set to two seconds
    template_streams = stream_mappings()
    monkeypatch.setenv(KAFKA_WINDOW_VARIABLE, "2")

    # When the mappings are read
    kafka, streams = kafka_mappings(), stream_mappings()

    # Then every Kafka mapping batches for two seconds, and the stream mappings keep the template's
    assert {mapping.batching_window_s for mapping in kafka} == {2.0}
    assert streams == template_streams


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("soon", "expected seconds"), ("301", "0 to 300"), ("-1", "0 to 300"), ("0.25", "whole seconds")],
)
def test_a_batching_window_lambda_would_refuse_fails_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str, complaint: str
) -> None:
    # Given a window Lambda does not allow
    monkeypatch.setenv(KAFKA_WINDOW_VARIABLE, value)

    # When the mappings are read, then the start fails with the reason
    with pytest.raises(ValueError, match=complaint):
        kafka_mappings()


def test_each_invocation_a_poller_makes_is_logged_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given a Kafka poller with the invocation log on, and a function that fails a record once
    log = tmp_path / "invocations.jsonl"
    monkeypatch.setenv(INVOCATION_LOG_VARIABLE, str(log))
    [mapping, *_] = kafka_mappings()
    function = FakeFunction(KafkaFormat("localhost:9092"), fails=lambda record, call: call == 1)
    poller = KafkaPoller(mapping, bootstrap_servers="localhost:9092", invoke=function, dead_letters=DeadLetters())

    # When it delivers a batch of two records
    poller._deliver([kafka(0, 1), kafka(0, 2)])

    # Then the log has a line per invocation, the retry included
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [{"source": "kafka", "function": "IngestFunction"}] * 2


def test_the_fanout_stream_mapping_is_read_with_its_filters() -> None:
    [mapping] = stream_mappings()

    assert mapping.function == "FanoutFunction"
    assert (mapping.batch_size, mapping.batching_window_s, mapping.starting_position) == (100, 0.0, "LATEST")
    assert (mapping.bisect_on_error, mapping.max_retries) == (True, 5)
    assert mapping.filters == (
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": [{"prefix": "N#"}]}}}},
        {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"Keys": {"sk": {"S": ["STATE"]}}}},
    )


# -- filtering -----------------------------------------------------------------------------


def change(event_name: str, sort_key: str) -> dict[str, Any]:
    return {
        "eventName": event_name,
        "dynamodb": {"Keys": {"pk": {"S": "U#alice"}, "sk": {"S": sort_key}}, "SequenceNumber": "1"},
    }


@pytest.mark.parametrize(
    ("event_name", "sort_key", "passes"),
    [
        ("INSERT", "N#01HX", True),
        ("MODIFY", "N#01HX", True),
        ("MODIFY", "STATE", True),
        ("INSERT", "STATE", True),
        ("INSERT", "C#connection-1", False),
        ("REMOVE", "N#01HX", False),
        ("MODIFY", "PREFS", False),
        ("INSERT", "D#device-1", False),
    ],
)
def test_the_fanout_filters_keep_notification_and_state_changes_only(
    event_name: str, sort_key: str, passes: bool
) -> None:
    [mapping] = stream_mappings()
    assert passes_filters(mapping.filters, change(event_name, sort_key)) is passes


def test_every_sample_stream_record_passes_the_fanout_filters() -> None:
    [mapping] = stream_mappings()
    for record in load_event("fanout-stream.json")["Records"]:
        assert passes_filters(mapping.filters, record)


def test_without_filters_every_record_passes() -> None:
    assert passes_filters((), change("REMOVE", "C#1"))


EVENT = {
    "name": "Alice",
    "count": 5,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "tags": ["red", "green"],
    "nested": {"kind": "like"},
}


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ({"name": ["Alice", "Bob"]}, True),
        ({"name": ["alice"]}, False),
        ({"count": [5]}, True),
        ({"count": [5.0]}, True),
        ({"count": ["5"]}, False),
        ({"flag": [True]}, True),
        ({"count": [True]}, False),
        ({"nothing": [None]}, True),
        ({"missing": [None]}, False),
        ({"tags": ["green"]}, True),
        ({"tags": ["blue"]}, False),
        ({"nested": {"kind": ["like"]}}, True),
        ({"nested": {"kind": ["follow"]}}, False),
        ({"name": {"kind": ["like"]}}, False),
        ({"name": ["Alice"], "count": [6]}, False),
        ({"name": [{"prefix": "Al"}]}, True),
        ({"name": [{"prefix": "al"}]}, False),
        ({"count": [{"prefix": "5"}]}, False),
        ({"name": [{"suffix": "ice"}]}, True),
        ({"name": [{"suffix": "Ali"}]}, False),
        ({"name": [{"exists": True}]}, True),
        ({"missing": [{"exists": True}]}, False),
        ({"missing": [{"exists": False}]}, True),
        ({"name": [{"exists": False}]}, False),
        ({"absent": {"deeper": [{"exists": False}]}}, True),
        ({"name": [{"anything-but": "Bob"}]}, True),
        ({"name": [{"anything-but": ["Bob", "Alice"]}]}, False),
        ({"missing": [{"anything-but": "Bob"}]}, False),
        ({"name": [{"equals-ignore-case": "aLiCe"}]}, True),
        ({"name": [{"equals-ignore-case": "Bob"}]}, False),
        ({"count": [{"numeric": [">", 4, "<=", 5]}]}, True),
        ({"count": [{"numeric": ["=", 5]}]}, True),
        ({"ratio": [{"numeric": [">=", 1]}]}, False),
        ({"name": [{"numeric": [">", 0]}]}, False),
        ({"name": ["Bob", {"prefix": "A"}]}, True),
    ],
)
def test_each_leaf_rule_matches_as_lambda_event_filtering_does(pattern: dict[str, Any], matches: bool) -> None:
    assert matches_filter(pattern, EVENT) is matches


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ({"name": [{"wildcard": "A*"}]}, "unsupported rule 'wildcard'"),
        ({"name": [{"cidr": "10.0.0.0/24"}]}, "unsupported rule 'cidr'"),
        ({"name": [{"prefix": "A", "suffix": "e"}]}, "exactly one operator"),
        ({"count": [{"numeric": [">", "4"]}]}, "invalid argument for 'numeric'"),
        ({"count": [{"numeric": ["~", 4]}]}, "invalid argument for 'numeric'"),
        ({"name": [{"exists": "yes"}]}, "invalid argument for 'exists'"),
        ({"name": "Alice"}, "expected an object or a list"),
        ({"nested": {"kind": [["like"]]}}, "nested.kind"),
    ],
)
def test_an_unsupported_pattern_is_refused_with_the_reason(pattern: dict[str, Any], complaint: str) -> None:
    # Even when the event would not reach the faulty rule
    with pytest.raises(ValueError, match=complaint):
        matches_filter(pattern, {})


# -- record shapes -------------------------------------------------------------------------


class FakeMessage:
    """The part of confluent_kafka.Message that the poller reads."""

    def __init__(self, value: bytes | None, key: bytes | None = b"alice", headers: Any = None) -> None:
        self._value, self._key, self._headers = value, key, headers

    def topic(self) -> str:
        return "message-liked"

    def partition(self) -> int:
        return 3

    def offset(self) -> int:
        return 42

    def timestamp(self) -> tuple[int, int]:
        return 1, 1_795_000_000_000  # TIMESTAMP_CREATE_TIME

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> Any:
        return self._headers


def test_a_kafka_message_becomes_a_record_of_the_msk_event() -> None:
    # Given a message with a key, a JSON value and a header holding a non-ASCII character
    message = FakeMessage(b'{"postId": "p1"}', headers=[("source", b"inbox"), ("who", "ë".encode())])

    # When it is turned into an event record
    record = kafka_record(message)

    # Then it has the sample event's fields, base64 key and value, and headers as Java's signed bytes
    sample = load_event("ingest-msk.json")["records"]["message-liked-0"][0]
    assert set(record) == set(sample)
    assert record["headers"] == [{"source": [105, 110, 98, 111, 120]}, {"who": [-61, -85]}]
    assert (record["topic"], record["partition"], record["offset"]) == ("message-liked", 3, 42)
    assert (record["timestamp"], record["timestampType"]) == (1_795_000_000_000, "CREATE_TIME")
    assert base64.b64decode(record["key"]) == b"alice"
    assert base64.b64decode(record["value"]) == b'{"postId": "p1"}'


def test_a_kafka_tombstone_without_key_or_headers_has_null_key_and_value() -> None:
    record = kafka_record(FakeMessage(None, key=None))
    assert (record["key"], record["value"], record["headers"]) == (None, None, [])


def test_kafka_records_are_grouped_by_topic_and_partition_in_the_msk_event() -> None:
    records = [kafka(0, 5), kafka(1, 7), kafka(0, 6)]

    event = KafkaFormat("127.0.0.1:9092").event(records)

    assert (event["eventSource"], event["eventSourceArn"]) == ("aws:kafka", KAFKA_CLUSTER_ARN)
    assert event["bootstrapServers"] == "127.0.0.1:9092"
    assert {key: [r["offset"] for r in batch] for key, batch in event["records"].items()} == {
        "t-0": [5, 6],
        "t-1": [7],
    }


def test_a_stream_record_from_boto3_becomes_a_record_of_lambdas_stream_event() -> None:
    # Given a GetRecords record as boto3 returns it: a datetime and a decoded binary attribute
    raw = {
        "eventID": "e-1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
            "Keys": {"pk": {"S": "U#alice"}, "sk": {"S": "N#1"}},
            "NewImage": {"pk": {"S": "U#alice"}, "sk": {"S": "N#1"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"a"]}},
            "SequenceNumber": "000000000000000000001",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }

    # When it is converted
    record = stream_record(raw, "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x", "us-east-1")

    # Then it has the sample's shape: epoch seconds, base64 binaries, the stream's ARN and the region
    sample = load_event("fanout-stream.json")["Records"][0]
    assert set(record) == set(sample)
    assert set(record["dynamodb"]) == set(sample["dynamodb"])
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1_795_428_000
    assert record["dynamodb"]["NewImage"]["b"] == {"B": "AP8="}
    assert record["dynamodb"]["NewImage"]["bs"] == {"BS": ["YQ=="]}
    assert (record["awsRegion"], record["eventSource"]) == ("us-east-1", "aws:dynamodb")
    assert record["eventSourceARN"] == "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x"


# -- retries, bisection and dead letters ---------------------------------------------------


def stream(*sequence_numbers: int) -> list[dict[str, Any]]:
    return [{"dynamodb": {"SequenceNumber": str(number)}} for number in sequence_numbers]


def kafka(partition: int, offset: int) -> dict[str, Any]:
    return {"topic": "t", "partition": partition, "offset": offset}


class FakeFunction:
    """Records every event; fails the records for which ``fails`` says so, or raises for the whole batch."""

    def __init__(self, record_format: Any, fails: Any = lambda record, call: False, raises: Any = None) -> None:
        self.record_format = record_format
        self.calls: list[list[dict[str, Any]]] = []
        self._fails, self._raises = fails, raises

    def __call__(self, event: dict[str, Any]) -> Any:
        records = event["Records"] if "Records" in event else [r for rs in event["records"].values() for r in rs]
        self.calls.append(records)
        if self._raises is not None and self._raises(records):
            raise FunctionError("FanoutFunction: RuntimeError: boom")
        failed = [self.record_format.item_identifier(r) for r in records if self._fails(r, len(self.calls))]
        return {"batchItemFailures": [{"itemIdentifier": identifier} for identifier in failed]}


def numbers(records: list[dict[str, Any]]) -> list[int]:
    return [int(record["dynamodb"]["SequenceNumber"]) for record in records]


def test_a_batch_the_function_accepts_is_invoked_once() -> None:
    function = FakeFunction(StreamFormat())
    assert BatchDelivery(StreamFormat(), function, max_retries=2).deliver(stream(1, 2, 3)) == []
    assert [numbers(call) for call in function.calls] == [[1, 2, 3]]


@pytest.mark.parametrize("result", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, "ok"])
def test_responses_without_failures_mean_success(result: Any) -> None:
    calls: list[dict[str, Any]] = []

    def function(event: dict[str, Any]) -> Any:
        calls.append(event)
        return result

    assert BatchDelivery(StreamFormat(), function, max_retries=2).deliver(stream(1)) == []
    assert len(calls) == 1


def test_a_partial_failure_is_retried_from_the_first_failed_record_on() -> None:
    # Given a function that fails record 3 of 5 on its first call only
    function = FakeFunction(StreamFormat(), fails=lambda record, call: numbers([record]) == [3] and call == 1)
    reports: list[str] = []

    # When the batch is delivered
    dead = BatchDelivery(StreamFormat(), function, max_retries=2, report=reports.append).deliver(stream(1, 2, 3, 4, 5))

    # Then records 1 and 2 are done, 3 to 5 are retried once, and nothing is given up on
    assert [numbers(call) for call in function.calls] == [[1, 2, 3, 4, 5], [3, 4, 5]]
    assert dead == []
    assert len(reports) == 1
    assert "retry 1 of 2 with 3 records" in reports[0]


def test_a_record_that_keeps_failing_is_a_dead_letter_after_the_retries() -> None:
    # Given a function that always fails records 2 and 4
    function = FakeFunction(StreamFormat(), fails=lambda record, call: numbers([record])[0] in {2, 4})

    # When a batch of four is delivered with two retries
    [dead] = BatchDelivery(StreamFormat(), function, max_retries=2).deliver(stream(1, 2, 3, 4))

    # Then it was tried three times from record 2 on, and the two failing records are given up on
    assert [numbers(call) for call in function.calls] == [[1, 2, 3, 4], [2, 3, 4], [2, 3, 4]]
    assert numbers(dead.records) == [2, 4]
    assert "batchItemFailures" in dead.reason
    assert "after 3 attempts" in dead.reason


def test_an_unknown_item_identifier_fails_the_whole_batch() -> None:
    calls: list[Any] = []

    def function(event: dict[str, Any]) -> Any:
        calls.append(event)
        return {"batchItemFailures": [{"itemIdentifier": ""}]}

    [dead] = BatchDelivery(StreamFormat(), function, max_retries=1).deliver(stream(1, 2))

    assert len(calls) == 2
    assert numbers(dead.records) == [1, 2]


def test_kafka_partial_failures_are_retried_per_partition_from_the_lowest_failed_offset() -> None:
    # Given offsets 10..12 of partition 0 and 20..21 of partition 1, with 11 failing once
    record_format = KafkaFormat("127.0.0.1:9092")
    function = FakeFunction(record_format, fails=lambda record, call: record == kafka(0, 11) and call == 1)
    batch = [kafka(0, 10), kafka(0, 11), kafka(0, 12), kafka(1, 20), kafka(1, 21)]

    # When the batch is delivered
    dead = BatchDelivery(record_format, function, max_retries=2).deliver(batch)

    # Then the retry holds partition 0 from offset 11 on, and partition 1 is done
    assert dead == []
    assert function.calls[1] == [kafka(0, 11), kafka(0, 12)]


def test_a_failed_kafka_invocation_retries_the_whole_batch_then_gives_it_up() -> None:
    # Given a function whose invocations all fail, and no bisection (Kafka has none)
    record_format = KafkaFormat("127.0.0.1:9092")
    function = FakeFunction(record_format, raises=lambda records: True)
    batch = [kafka(0, 1), kafka(0, 2)]

    # When the batch is delivered with two retries
    [dead] = BatchDelivery(record_format, function, max_retries=2).deliver(batch)

    # Then the whole batch was tried three times and is given up on, with the error as the reason
    assert function.calls == [batch, batch, batch]
    assert dead.records == batch
    assert "the invocation failed: FanoutFunction: RuntimeError: boom" in dead.reason


def test_bisection_isolates_the_record_that_fails_the_invocation() -> None:
    # Given a function that fails as a whole whenever record 3 is in the batch
    function = FakeFunction(StreamFormat(), raises=lambda records: 3 in numbers(records))

    # When a batch of four is delivered with bisection and two retries
    delivery = BatchDelivery(StreamFormat(), function, max_retries=2, bisect_on_error=True)
    [dead] = delivery.deliver(stream(1, 2, 3, 4))

    # Then halves are split down to record 3, which alone is tried 1 + 2 times (splits cost no retry)
    assert [numbers(call) for call in function.calls] == [[1, 2, 3, 4], [1, 2], [3, 4], [3], [3], [3], [4]]
    assert numbers(dead.records) == [3]


def test_a_partial_failure_after_a_split_is_retried_within_its_half() -> None:
    # Given a function that fails as a whole on the full batch and reports record 2 failed once
    function = FakeFunction(
        StreamFormat(),
        raises=lambda records: len(records) == 4,
        fails=lambda record, call: numbers([record]) == [2] and call == 2,
    )

    # When it is delivered with bisection
    dead = BatchDelivery(StreamFormat(), function, max_retries=1, bisect_on_error=True).deliver(stream(1, 2, 3, 4))

    # Then the first half resumes at record 2, and the second half runs once
    assert [numbers(call) for call in function.calls] == [[1, 2, 3, 4], [1, 2], [2], [3, 4]]
    assert dead == []


def test_an_error_outside_the_function_is_not_taken_for_a_failure() -> None:
    def broken(event: dict[str, Any]) -> Any:
        raise BrokenPipeError("the worker's pipe is gone")

    with pytest.raises(BrokenPipeError):
        BatchDelivery(StreamFormat(), broken, max_retries=2).deliver(stream(1))
