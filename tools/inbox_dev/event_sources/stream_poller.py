"""The DynamoDB Streams mapping of a function: shards in order, filtered, batched, retried and bisected."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.batching import BatchDelivery, Invoke, Record, Report, StreamFormat
from inbox_dev.event_sources.filters import passes_filters
from inbox_dev.event_sources.mappings import StreamMapping
from inbox_dev.event_sources.poller import FAULT_PAUSE_S, Poller, Stopped

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Short, so that stop() takes effect within a second or two.
STREAM_POLL_S = 0.25
DESCRIBE_EVERY_S = 5.0


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


class StreamPoller(Poller):
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
            except Stopped:
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
