"""Local stand-ins for the template's event source mappings: Kafka consumer groups and a DynamoDB Streams poller.

What a function sees, and what happens when it fails, is decided by Lambda's pollers: batch size
and window, filter criteria, partial batch responses, bounded retries, bisection and the on-failure
destination. They are reproduced here from template.yaml, so that a local run batches, filters,
retries and gives up the way the deployed stack does, instead of calling a handler per record.
"""

from __future__ import annotations

import base64
import json
import logging
import operator
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Consumer, KafkaException, TopicPartition

from inbox_dev.dead_letters import DeadLetters
from inbox_dev.runtime import REGION, FunctionError
from inbox_dev.template import functions, resolve, resource, template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LOGGER = logging.getLogger("inbox_dev.event_sources")

Invoke = Callable[[dict[str, Any]], Any]
Report = Callable[[str], None]
Record = dict[str, Any]

# Lambda retries a failing Kafka or stream batch until its records expire (MaximumRetryAttempts
# absent or -1). Locally that would block a partition or shard for good: a poison batch must
# reach the dead letters, where the developer sees it, after a couple of retries.
LOCAL_MAX_RETRIES = 2
KAFKA_CLUSTER_ARN = f"arn:aws:kafka:{REGION}:000000000000:cluster/local/local"
# Waits are short so that stop() takes effect within a second or two.
KAFKA_POLL_S = 0.5
STREAM_POLL_S = 0.25
DESCRIBE_EVERY_S = 5.0
FAULT_PAUSE_S = 1.0


# -- the mappings in template.yaml ---------------------------------------------------------


@dataclass(frozen=True)
class KafkaMapping:
    """A self-managed Kafka event source mapping of the template: a consumer group on its topics."""

    logical_id: str
    function: str
    topics: tuple[str, ...]
    consumer_group: str
    batch_size: int
    batching_window_s: float
    starting_position: str
    max_retries: int


def kafka_mappings() -> list[KafkaMapping]:
    """The self-managed Kafka mappings: a local broker is self-managed (the MSK ones are their cloud twins)."""
    mappings = []
    for logical_id, body in template()["Resources"].items():
        properties = body.get("Properties", {})
        if body["Type"] != "AWS::Lambda::EventSourceMapping" or "SelfManagedEventSource" not in properties:
            continue
        group = properties.get("SelfManagedKafkaEventSourceConfig", {}).get("ConsumerGroupId")
        mappings.append(
            KafkaMapping(
                logical_id=logical_id,
                function=_function_of(properties["FunctionName"]),
                topics=tuple(properties["Topics"]),
                # Lambda names an unnamed group after the mapping's UUID; the logical id is as stable.
                consumer_group=str(resolve(group, {})) if group is not None else logical_id,
                batch_size=int(properties.get("BatchSize", 100)),
                batching_window_s=float(properties.get("MaximumBatchingWindowInSeconds", 0.5)),
                starting_position=str(properties["StartingPosition"]),
                max_retries=_max_retries(properties),
            )
        )
    return mappings


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB event of a function in the template (SAM's shorthand for a stream mapping)."""

    function: str
    batch_size: int
    batching_window_s: float
    starting_position: str
    bisect_on_error: bool
    max_retries: int
    filters: tuple[dict[str, Any], ...]


def stream_mappings() -> list[StreamMapping]:
    mappings = []
    for function in functions():
        for event in resource(function)["Properties"].get("Events", {}).values():
            if event["Type"] != "DynamoDB":
                continue
            properties = event["Properties"]
            criteria = properties.get("FilterCriteria", {}).get("Filters", [])
            filters = tuple(json.loads(criterion["Pattern"]) for criterion in criteria)
            for pattern in filters:
                _check_pattern(pattern)  # a pattern Lambda would reject fails the start, not the first record
            mappings.append(
                StreamMapping(
                    function=function,
                    batch_size=int(properties.get("BatchSize", 100)),
                    batching_window_s=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                    starting_position=str(properties["StartingPosition"]),
                    bisect_on_error=bool(properties.get("BisectBatchOnFunctionError", False)),
                    max_retries=_max_retries(properties),
                    filters=filters,
                )
            )
    return mappings


def _function_of(name: Any) -> str:
    if isinstance(name, dict) and "Ref" in name:
        return str(name["Ref"])
    raise ValueError(f"FunctionName {name!r}: only a Ref to a function of the template can run locally")


def _max_retries(properties: Mapping[str, Any]) -> int:
    retries = int(properties.get("MaximumRetryAttempts", -1))
    return LOCAL_MAX_RETRIES if retries < 0 else retries


# -- event filtering -----------------------------------------------------------------------

_MISSING = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def _equal(expected: Any, value: Any) -> bool:
    # JSON equality: true is not 1, while 1 and 1.0 are the same number.
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    return bool(expected == value)


def _valid_numeric(argument: Any) -> bool:
    if not isinstance(argument, list) or not argument or len(argument) % 2:
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(op in _COMPARISONS and _is_number(bound) for op, bound in pairs)


def _numeric(argument: list[Any], value: Any) -> bool:
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return _is_number(value) and all(_COMPARISONS[op](value, bound) for op, bound in pairs)


def _anything_but(argument: Any, value: Any) -> bool:
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equal(item, value) for item in excluded)


# The rules Lambda supports, each with a check of its argument.
_RULE_ARGUMENTS: dict[str, Callable[[Any], bool]] = {
    "prefix": lambda argument: isinstance(argument, str),
    "suffix": lambda argument: isinstance(argument, str),
    "equals-ignore-case": lambda argument: isinstance(argument, str),
    "anything-but": lambda argument: (
        _is_scalar(argument) or (isinstance(argument, list) and all(_is_scalar(item) for item in argument))
    ),
    "numeric": _valid_numeric,
    "exists": lambda argument: isinstance(argument, bool),
}
# How a present value matches each rule; "exists" is about presence itself (see _matches_value).
_RULE_MATCHES: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": lambda argument, value: isinstance(value, str) and value.startswith(argument),
    "suffix": lambda argument, value: isinstance(value, str) and value.endswith(argument),
    "equals-ignore-case": lambda argument, value: isinstance(value, str) and value.casefold() == argument.casefold(),
    "anything-but": _anything_but,
    "numeric": _numeric,
}


def _check_pattern(pattern: Mapping[str, Any], path: str = "") -> None:
    """Reject what Lambda would reject, so that an unsupported rule never silently passes or drops records."""
    for key, expected in pattern.items():
        where = f"{path}.{key}" if path else key
        if isinstance(expected, Mapping):
            _check_pattern(expected, where)
        elif isinstance(expected, list):
            for candidate in expected:
                if isinstance(candidate, Mapping):
                    _check_rule(candidate, where)
                elif not _is_scalar(candidate):
                    raise ValueError(f"filter field {where}: {candidate!r} is neither a value nor a rule")
        else:
            raise ValueError(f"filter field {where}: expected an object or a list of values, got {expected!r}")


def _check_rule(rule: Mapping[str, Any], where: str) -> None:
    if len(rule) != 1:
        raise ValueError(f"filter field {where}: a rule has exactly one operator, got {dict(rule)!r}")
    ((name, argument),) = rule.items()
    if name not in _RULE_ARGUMENTS:
        raise ValueError(f"filter field {where}: unsupported rule {name!r} (supported: {', '.join(_RULE_ARGUMENTS)})")
    if not _RULE_ARGUMENTS[name](argument):
        raise ValueError(f"filter field {where}: invalid argument for {name!r}: {argument!r}")


def matches_filter(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches one filter pattern of Lambda event filtering.

    Objects nest; a leaf lists the values and rules allowed there (any of them); a list in the
    event matches when one of its items does. Unsupported rules raise ValueError.
    """
    _check_pattern(pattern)
    return _matches_object(pattern, event)


def passes_filters(filters: Sequence[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """Lambda keeps a record that matches any of the mapping's filters, and every record without filters."""
    return not filters or any(matches_filter(pattern, event) for pattern in filters)


def _matches_object(pattern: Mapping[str, Any], value: Any) -> bool:
    if isinstance(value, list):
        return any(_matches_object(pattern, item) for item in value)
    if not isinstance(value, Mapping):
        return False
    return all(_matches_field(expected, value.get(key, _MISSING)) for key, expected in pattern.items())


def _matches_field(expected: Any, value: Any) -> bool:
    if isinstance(expected, Mapping):
        # A missing object is an empty one: only {"exists": false} rules inside it can match.
        return _matches_object(expected, {} if value is _MISSING else value)
    values = value if isinstance(value, list) else [value]
    return any(_matches_value(candidate, item) for candidate in expected for item in values)


def _matches_value(candidate: Any, value: Any) -> bool:
    if isinstance(candidate, Mapping):
        ((name, argument),) = candidate.items()
        if name == "exists":
            return (value is not _MISSING) is argument
        return value is not _MISSING and _RULE_MATCHES[name](argument, value)
    return value is not _MISSING and _equal(candidate, value)


# -- batches, retries and dead letters -----------------------------------------------------


class RecordFormat(ABC):
    """How an event source wraps records in an event, and how a partial batch response names one."""

    @abstractmethod
    def event(self, records: list[Record]) -> dict[str, Any]: ...

    @abstractmethod
    def item_identifier(self, record: Record) -> Any: ...

    @abstractmethod
    def group(self, record: Record) -> str:
        """Records of one group are processed in order: a retry resumes a group at its first failure."""


class KafkaFormat(RecordFormat):
    """The MSK event: records grouped by "<topic>-<partition>", failures named by partition and offset."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers

    def event(self, records: list[Record]) -> dict[str, Any]:
        grouped: dict[str, list[Record]] = {}
        for record in records:
            grouped.setdefault(self.group(record), []).append(record)
        return {
            "eventSource": "aws:kafka",
            "eventSourceArn": KAFKA_CLUSTER_ARN,
            "bootstrapServers": self._bootstrap_servers,
            "records": grouped,
        }

    def item_identifier(self, record: Record) -> Any:
        return {"partition": self.group(record), "offset": record["offset"]}

    def group(self, record: Record) -> str:
        return f"{record['topic']}-{record['partition']}"


class StreamFormat(RecordFormat):
    """The DynamoDB Streams event: failures named by sequence number; a batch comes from one shard."""

    def event(self, records: list[Record]) -> dict[str, Any]:
        return {"Records": records}

    def item_identifier(self, record: Record) -> Any:
        return record["dynamodb"]["SequenceNumber"]

    def group(self, record: Record) -> str:
        return "shard"


@dataclass(frozen=True)
class DeadLetter:
    """Records given up on after the retries, and why."""

    reason: str
    records: list[Record]


@dataclass(frozen=True)
class BatchDelivery:
    """Hands one batch to a function as Lambda's poller does, and returns what it had to give up on.

    Pure apart from ``invoke``: both pollers use it, and the unit tests drive it with a fake.
    A partial batch response retries each group from its first failed record on; a failed
    invocation retries the whole batch, or with ``bisect_on_error`` splits it in halves first
    (splitting costs no retry, as in Lambda). After ``max_retries`` retries, the records that
    still fail are returned as dead letters. An exception other than FunctionError propagates:
    it is a fault of the caller, not of the function.
    """

    record_format: RecordFormat
    invoke: Invoke
    max_retries: int
    bisect_on_error: bool = False
    report: Report = LOGGER.warning

    def deliver(self, records: list[Record]) -> list[DeadLetter]:
        return self._deliver(records, self.max_retries) if records else []

    def _deliver(self, records: list[Record], retries_left: int) -> list[DeadLetter]:
        while True:
            try:
                result = self.invoke(self.record_format.event(records))
            except FunctionError as error:
                if self.bisect_on_error and len(records) > 1:
                    self.report(f"a batch of {len(records)} records failed ({error}); splitting it in two")
                    half = len(records) // 2
                    return self._deliver(records[:half], retries_left) + self._deliver(records[half:], retries_left)
                retry, failing, reason = records, records, f"the invocation failed: {error}"
            else:
                positions = self._failed_positions(records, result)
                if not positions:
                    return []
                retry = self._from_first_failures(records, positions)
                failing = [records[position] for position in positions]
                reason = f"reported in batchItemFailures ({len(failing)} of {len(records)} records)"
            if retries_left == 0:
                return [DeadLetter(f"{reason}, after {self.max_retries + 1} attempts", failing)]
            retries_left -= 1
            attempt = self.max_retries - retries_left
            self.report(f"retry {attempt} of {self.max_retries} with {len(retry)} records: {reason}")
            records = retry

    def _failed_positions(self, records: list[Record], result: Any) -> list[int]:
        """Where the failed records are; every record when the response names one Lambda cannot place."""
        failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
        if not failures:
            return []
        identifiers = [self.record_format.item_identifier(record) for record in records]
        positions = set()
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
            if identifier not in identifiers:
                # Lambda treats an empty, null or malformed itemIdentifier as the failure of the whole batch.
                return list(range(len(records)))
            positions.add(identifiers.index(identifier))
        return sorted(positions)

    def _from_first_failures(self, records: list[Record], positions: list[int]) -> list[Record]:
        """Each group's records from its first failure on: those before it are done, as Lambda checkpoints."""
        first: dict[str, int] = {}
        for position in positions:
            first.setdefault(self.record_format.group(records[position]), position)
        group = self.record_format.group
        return [record for index, record in enumerate(records) if index >= first.get(group(record), len(records))]


# -- pollers -------------------------------------------------------------------------------


class _Stopped(Exception):
    """The poller is stopping: the batch in hand is left unfinished (and uncommitted)."""


class _Poller(ABC):
    """A background thread that feeds one mapping's batches to its function until stopped."""

    _delivery: BatchDelivery  # set by each kind of poller, around self._invoke

    def __init__(
        self,
        name: str,
        *,
        source: str,
        function: str,
        invoke: Invoke,
        dead_letters: DeadLetters,
        on_error: Report | None,
    ) -> None:
        self._name, self._source, self._function = name, source, function
        self._invoke_function = invoke
        self._dead_letters = dead_letters
        self._on_error = on_error
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread; an invocation in flight is awaited (its worker has a timeout)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    @abstractmethod
    def _run(self) -> None: ...

    def _invoke(self, event: dict[str, Any]) -> Any:
        if self._stopping.is_set():
            raise _Stopped
        return self._invoke_function(event)

    def _deliver(self, records: list[Record]) -> None:
        for letter in self._delivery.deliver(records):
            self._dead_letters.add(
                source=self._source, function=self._function, reason=letter.reason, records=letter.records
            )
            self._report(f"{len(letter.records)} records sent to the dead letters: {letter.reason}", logging.ERROR)

    def _report(self, message: str, level: int = logging.WARNING) -> None:
        LOGGER.log(level, "%s: %s", self._name, message)
        if self._on_error is not None:
            self._on_error(f"{self._name}: {message}")


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


class KafkaPoller(_Poller):
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
                except _Stopped:
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


def _json_ready(value: Any) -> Any:
    """Attribute values as Lambda's JSON has them: boto3 decodes binaries (B, BS) that the event keeps in base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_ready(item) for item in value]
    return value


_STREAM_FIELDS = ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType")


def stream_record(record: Mapping[str, Any], stream_arn: str, region: str) -> Record:
    """A GetRecords record (as boto3 returns it) as a record of Lambda's DynamoDB Streams event."""
    change = record["dynamodb"]
    dynamodb: dict[str, Any] = {"ApproximateCreationDateTime": int(change["ApproximateCreationDateTime"].timestamp())}
    dynamodb.update({name: _json_ready(change[name]) for name in _STREAM_FIELDS if name in change})
    event = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # TTL deletions name the DynamoDB service here
        event["userIdentity"] = record["userIdentity"]
    return event


TRIM_HORIZON = "TRIM_HORIZON"
SHARD_END = "SHARD_END"


class StreamCheckpoints:
    """How far each stream mapping got in each shard, which Lambda keeps for a mapping: a new poller resumes there.

    A shard's checkpoint is the sequence number of the last record handled (delivered, dead-lettered
    or filtered out), TRIM_HORIZON before the first, or SHARD_END once the shard is done. Kept in
    memory, and in a JSON file when given one, for a table whose stream outlives the run (--persist).
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._positions: dict[str, dict[str, str]] = json.loads(path.read_text()) if path and path.exists() else {}

    def of(self, mapping: str) -> dict[str, str]:
        with self._lock:
            return dict(self._positions.get(mapping, {}))

    def save(self, mapping: str, shard_id: str, position: str) -> None:
        with self._lock:
            shards = self._positions.setdefault(mapping, {})
            if shards.get(shard_id) == position:
                return
            shards[shard_id] = position
            if self._path is not None:
                aside = self._path.with_name(f"{self._path.name}.tmp")
                aside.write_text(json.dumps(self._positions, indent=2))
                aside.replace(self._path)


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    position: str  # where to read from when no record was read yet
    iterator: str | None  # None once the shard is closed and read to its end
    last_read: str | None = None
    handled: str | None = None  # the last record delivered or filtered out: the shard's checkpoint
    pending: list[Record] = field(default_factory=list)  # filtered records waiting for the batching window
    pending_since: float = 0.0


class StreamPoller(_Poller):
    """The stream mapping of one function: shards in order, filtered, batched, retried and bisected."""

    def __init__(
        self,
        mapping: StreamMapping,
        *,
        table_name: str,
        invoke: Invoke,
        dead_letters: DeadLetters,
        on_error: Report | None = None,
        checkpoints: StreamCheckpoints | None = None,
    ) -> None:
        super().__init__(
            f"stream {mapping.function}",
            source="dynamodb-stream",
            function=mapping.function,
            invoke=invoke,
            dead_letters=dead_letters,
            on_error=on_error,
        )
        self.mapping = mapping
        self._delivery = BatchDelivery(
            StreamFormat(), self._invoke, mapping.max_retries, mapping.bisect_on_error, report=self._report
        )
        self._table_name = table_name
        # Endpoints come from AWS_ENDPOINT_URL_DYNAMODB(_STREAMS), which the caller sets.
        self._dynamodb: DynamoDBClient = boto3.client("dynamodb")
        self._streams: Any = boto3.client("dynamodbstreams")
        self._stream_arn = ""
        self._shards: dict[str, _Shard] = {}
        self._finished: set[str] = set()
        # Pollers of one mapping given the same checkpoints resume one another, as Lambda does after a
        # mapping is disabled and enabled again: without them a restart at LATEST skips what came meanwhile.
        self._checkpoints = checkpoints if checkpoints is not None else StreamCheckpoints()
        self._checkpoint_key = ""

    def start(self) -> None:
        """Find the table's stream and take positions now: where the mapping stopped before, or its starting
        position, so that LATEST means "from the first start()" on."""
        stream_arn = self._dynamodb.describe_table(TableName=self._table_name)["Table"].get("LatestStreamArn")
        if not stream_arn:
            raise ValueError(f"table {self._table_name} has no stream for {self.mapping.function}")
        self._stream_arn = stream_arn
        self._checkpoint_key = f"{self.mapping.function} {stream_arn}"
        # A mapping that ran before resumes each shard it knew; shards it did not know are newer: read them whole.
        resuming = bool(self._checkpoints.of(self._checkpoint_key))
        self._discover(TRIM_HORIZON if resuming else self.mapping.starting_position)
        super().start()

    def _run(self) -> None:
        described_at = time.monotonic()
        while not self._stopping.wait(STREAM_POLL_S):
            try:
                if time.monotonic() - described_at >= DESCRIBE_EVERY_S:
                    self._discover("TRIM_HORIZON")  # shards born after start() are read from their beginning
                    described_at = time.monotonic()
                for shard in self._ready_shards():
                    self._poll(shard)
            except _Stopped:
                return
            except Exception as error:
                # A fault of DynamoDB Local or of the local stack: pending records stay and are tried again.
                self._report(f"{type(error).__name__}: {error}")
                self._stopping.wait(FAULT_PAUSE_S)

    def _discover(self, position: str) -> None:
        checkpoints = self._checkpoints.of(self._checkpoint_key)
        for description in self._describe_shards():
            shard_id = description["ShardId"]
            if shard_id in self._shards or shard_id in self._finished:
                continue
            checkpoint = checkpoints.get(shard_id)
            closed = "EndingSequenceNumber" in description["SequenceNumberRange"]
            if checkpoint == SHARD_END or (checkpoint is None and position == "LATEST" and closed):
                self._finished.add(shard_id)  # done, or closed before LATEST: nothing in it is later than now
                self._checkpoints.save(self._checkpoint_key, shard_id, SHARD_END)
                continue
            parent = description.get("ParentShardId")
            if checkpoint is not None:
                shard = self._resumed(shard_id, parent, checkpoint)
            elif position == "LATEST":
                shard = self._at_end(shard_id, parent)
            else:
                shard = _Shard(shard_id, parent, position, self._iterator(shard_id, position))
            self._shards[shard_id] = shard
            self._checkpoint(shard)

    def _resumed(self, shard_id: str, parent: str | None, checkpoint: str) -> _Shard:
        after = None if checkpoint == TRIM_HORIZON else checkpoint
        try:
            iterator = self._iterator(shard_id, TRIM_HORIZON, after)
        except ClientError as error:  # e.g. a checkpoint older than the stream's records: read what is there
            self._report(f"cannot resume shard {shard_id} after {checkpoint} ({error}); reading it from its start")
            after, iterator = None, self._iterator(shard_id, TRIM_HORIZON)
        return _Shard(shard_id, parent, TRIM_HORIZON, iterator, last_read=after, handled=after)

    def _at_end(self, shard_id: str, parent: str | None) -> _Shard:
        """LATEST as a position a restart can resume from: the shard read to its end now, its records skipped."""
        shard = _Shard(shard_id, parent, TRIM_HORIZON, self._iterator(shard_id, TRIM_HORIZON))
        while shard.iterator is not None:
            response = self._get_records(shard)
            shard.iterator = response.get("NextShardIterator")
            if not response["Records"]:
                break
            shard.last_read = response["Records"][-1]["dynamodb"]["SequenceNumber"]
        shard.handled = shard.last_read
        return shard

    def _checkpoint(self, shard: _Shard) -> None:
        self._checkpoints.save(self._checkpoint_key, shard.shard_id, shard.handled or TRIM_HORIZON)

    def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        after: dict[str, str] = {}
        while True:
            description = self._streams.describe_stream(StreamArn=self._stream_arn, **after)["StreamDescription"]
            shards += description["Shards"]
            if "LastEvaluatedShardId" not in description:
                return shards
            after = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}

    def _iterator(self, shard_id: str, position: str, after: str | None = None) -> str:
        where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after else {}
        response = self._streams.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=shard_id, **({"ShardIteratorType": position} | where)
        )
        return str(response["ShardIterator"])

    def _ready_shards(self) -> list[_Shard]:
        """Shards whose parent is done: a child's records come after all of its parent's."""
        return [shard for shard in list(self._shards.values()) if shard.parent_id not in self._shards]

    def _poll(self, shard: _Shard) -> None:
        if shard.iterator is not None:
            response = self._get_records(shard)
            records = [
                stream_record(raw, self._stream_arn, self._streams.meta.region_name) for raw in response["Records"]
            ]
            if response["Records"]:
                shard.last_read = response["Records"][-1]["dynamodb"]["SequenceNumber"]
            shard.iterator = response.get("NextShardIterator")
            kept = [record for record in records if passes_filters(self.mapping.filters, record)]
            if kept and not shard.pending:
                shard.pending_since = time.monotonic()
            shard.pending += kept
        self._flush(shard)
        if shard.iterator is None and not shard.pending:
            del self._shards[shard.shard_id]
            self._finished.add(shard.shard_id)
            self._checkpoints.save(self._checkpoint_key, shard.shard_id, SHARD_END)
        else:
            self._checkpoint(shard)

    def _get_records(self, shard: _Shard) -> dict[str, Any]:
        try:
            return dict(self._streams.get_records(ShardIterator=shard.iterator))
        except self._streams.exceptions.ExpiredIteratorException:
            # An iterator lives 15 minutes (a long retry, a sleeping laptop): resume after the last record read.
            shard.iterator = self._iterator(shard.shard_id, shard.position, shard.last_read)
            return dict(self._streams.get_records(ShardIterator=shard.iterator))

    def _flush(self, shard: _Shard) -> None:
        """Deliver full batches, and the rest once the window has passed or the shard has ended."""
        size, window = self.mapping.batch_size, self.mapping.batching_window_s
        while shard.pending and (
            len(shard.pending) >= size or shard.iterator is None or time.monotonic() - shard.pending_since >= window
        ):
            batch = shard.pending[:size]
            self._deliver(batch)
            del shard.pending[:size]  # only once delivered: a fault above leaves the batch to try again
            shard.handled = batch[-1]["dynamodb"]["SequenceNumber"]
        if not shard.pending and shard.last_read is not None:
            shard.handled = shard.last_read  # what was read and not pending was delivered or filtered out
