"""The DynamoDB Streams poller against DynamoDB Local: the template's filters, Lambda's record shape, dead letters."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.mappings import StreamMapping, stream_mappings
from inbox_dev.event_sources.stream_poller import StreamPoller

from tests.conftest import TABLE_NAME, load_event

pytestmark = pytest.mark.integration

StartPoller = Callable[[Callable[[dict[str, Any]], Any]], DeadLetters]


def eventually(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for the poller to catch up with DynamoDB Local, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not the case within {timeout:.0f} s")
        time.sleep(0.05)


class RecordingFunction:
    """A fake fan-out function: keeps every event and reports as failed the records ``fails`` picks."""

    def __init__(self, fails: Callable[[dict[str, Any]], bool] = lambda record: False) -> None:
        self.events: list[dict[str, Any]] = []
        self._fails = fails

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        failed = [record["dynamodb"]["SequenceNumber"] for record in event["Records"] if self._fails(record)]
        return {"batchItemFailures": [{"itemIdentifier": sequence_number} for sequence_number in failed]}

    def records_of(self, user: str) -> list[dict[str, Any]]:
        """The user's records among all it received: the table is shared by the whole test session."""
        records = [record for event in self.events for record in event["Records"]]
        return [record for record in records if record["dynamodb"]["Keys"]["pk"]["S"] == f"U#{user}"]


def of_user(user: str) -> Callable[[dict[str, Any]], bool]:
    return lambda record: bool(record["dynamodb"]["Keys"]["pk"]["S"] == f"U#{user}")


@pytest.fixture
def fanout() -> StreamMapping:
    [mapping] = [mapping for mapping in stream_mappings() if mapping.function == "FanoutFunction"]
    return mapping


@pytest.fixture
def start_poller(
    table: Any, dynamodb_endpoint: str, fanout: StreamMapping, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StartPoller]:
    """Start the fan-out mapping's poller on the test table with a given function; stopped at the end."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", dynamodb_endpoint)
    pollers: list[StreamPoller] = []

    def start(invoke: Callable[[dict[str, Any]], Any]) -> DeadLetters:
        dead_letters = DeadLetters()
        poller = StreamPoller(fanout, table_name=TABLE_NAME, invoke=invoke, dead_letters=dead_letters)
        pollers.append(poller)
        poller.start()
        return dead_letters

    yield start
    for poller in pollers:
        poller.stop()


def test_the_function_receives_only_the_notification_insert_in_lambdas_shape(
    start_poller: StartPoller, table: Any, user: str
) -> None:
    # Given the fan-out mapping polling the table's stream for a recording function
    function = RecordingFunction()
    start_poller(function)

    # When a connection of the user is stored, and then a notification (same partition, so after it)
    table.put_item(Item={"pk": f"U#{user}", "sk": "C#c1", "connectedAt": 1})
    table.put_item(Item={"pk": f"U#{user}", "sk": "N#x1", "t": "like", "a": "bob"})

    # Then the function received the notification's INSERT alone: the connection was filtered out
    eventually(lambda: function.records_of(user))
    [record] = function.records_of(user)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["Keys"] == {"pk": {"S": f"U#{user}"}, "sk": {"S": "N#x1"}}
    assert record["dynamodb"]["NewImage"] == {
        "pk": {"S": f"U#{user}"},
        "sk": {"S": "N#x1"},
        "t": {"S": "like"},
        "a": {"S": "bob"},
    }
    # And it has the shape of Lambda's stream records, which Powertools reads as the fan-out does
    sample = load_event("fanout-stream.json")["Records"][0]
    assert set(record) == set(sample)
    assert set(record["dynamodb"]) == set(sample["dynamodb"])
    assert (record["eventSource"], record["eventVersion"], record["awsRegion"]) == ("aws:dynamodb", "1.1", "us-east-1")
    assert record["eventSourceARN"] == table.latest_stream_arn
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    [parsed] = DynamoDBStreamEvent({"Records": [record]}).records
    assert parsed.dynamodb is not None
    assert parsed.dynamodb.new_image["sk"] == "N#x1"


def test_a_record_the_function_always_fails_is_a_dead_letter_after_the_retries(
    start_poller: StartPoller, table: Any, fanout: StreamMapping, user: str
) -> None:
    # Given a function that reports every record of the user as failed
    function = RecordingFunction(fails=of_user(user))
    dead_letters = start_poller(function)

    # When a notification of the user is stored
    table.put_item(Item={"pk": f"U#{user}", "sk": "N#x2", "t": "like"})

    # Then after the first attempt and every retry, the record is in the dead letters
    eventually(dead_letters.items)
    [letter] = dead_letters.items()
    assert (letter["source"], letter["function"]) == ("dynamodb-stream", "FanoutFunction")
    assert [record["dynamodb"]["Keys"]["sk"]["S"] for record in letter["records"]] == ["N#x2"]
    assert f"after {fanout.max_retries + 1} attempts" in letter["reason"]
    assert len(function.records_of(user)) == fanout.max_retries + 1
