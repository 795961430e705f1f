"""Batches of Kafka or DynamoDB Streams records: worked on side by side, reported record by record.

Records of one key (a recipient) must be applied in order: a like and its unlike, or a
notification and its "read" sync, would otherwise race. Records of different keys are
independent, so each key's records run in order on one thread and the keys run on a pool.
Powertools' BatchProcessor calls a record handler one record at a time; `SideBySideProcessor`
works on the whole batch when the batch opens, and its `report` hands each record's outcome to
Powertools, which builds the partial batch response from the failures.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")
Result = TypeVar("Result")
RecordT = TypeVar("RecordT")
OutcomeT = TypeVar("OutcomeT")


def in_order_per_key(
    pool: ThreadPoolExecutor,
    items: Iterable[Item],
    key_of: Callable[[Item], Key],
    handle: Callable[[list[Item]], Result],
) -> list[Result]:
    """``handle`` each key's items, in their batch order; keys side by side on ``pool``."""
    groups: dict[Key, list[Item]] = {}
    for item in items:
        groups.setdefault(key_of(item), []).append(item)
    return list(pool.map(handle, groups.values()))


class SideBySideProcessor(BatchProcessor, Generic[RecordT, OutcomeT]):
    """A BatchProcessor whose batch is applied as a whole before each record is reported.

    ``apply_batch`` receives the batch's records (Powertools data classes) and returns each
    record's outcome under ``key_of(record)``: a result, or the exception that fails the record.
    """

    def __init__(
        self,
        event_type: EventType,
        key_of: Callable[[RecordT], str],
        apply_batch: Callable[[list[RecordT]], Mapping[str, OutcomeT | Exception]],
    ) -> None:
        super().__init__(event_type=event_type, raise_on_entire_batch_failure=False)
        self._key_of = key_of
        self._apply_batch = apply_batch
        self._outcomes: Mapping[str, OutcomeT | Exception] = {}

    def _prepare(self) -> None:
        super()._prepare()  # type: ignore[no-untyped-call]  # not annotated in Powertools
        records: list[Any] = [self._to_batch_type(record=record, event_type=self.event_type) for record in self.records]
        self._outcomes = self._apply_batch(records)

    def report(self, record: RecordT) -> OutcomeT:
        """The record handler: the record's outcome, raised when it failed."""
        outcome = self._outcomes[self._key_of(record)]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
