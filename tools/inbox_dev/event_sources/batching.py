"""How Lambda's pollers hand a batch to a function: record formats, partial batch responses, retries,
bisection, and the records given up on (dead letters)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from inbox_dev.runtime import REGION, FunctionError

LOGGER = logging.getLogger(__name__)

Invoke = Callable[[dict[str, Any]], Any]
Report = Callable[[str], None]
Record = dict[str, Any]

KAFKA_CLUSTER_ARN = f"arn:aws:kafka:{REGION}:000000000000:cluster/local/local"


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
