"""Capacity units and requests as DynamoDB reports them, for benchmarks and capacity tests.

Production requests never ask for consumed capacity. The meter is a botocore event hook on a
client: it adds ``ReturnConsumedCapacity=INDEXES`` to each request and records what comes back,
failed conditional writes included (botocore emits after-call before it raises).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})
METERED_OPERATIONS = READ_OPERATIONS | {
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
}


@dataclass
class CapacityMeter:
    read_units: float = 0.0
    write_units: float = 0.0
    requests: int = 0
    by_index: dict[str, float] = field(default_factory=dict)

    # Batches are applied on several threads at once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, operation: str, consumed: Mapping[str, Any] | list[Mapping[str, Any]] | None) -> None:
        with self._lock:
            self.requests += 1
            for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
                units = float(entry.get("CapacityUnits", 0) or 0)
                if operation in READ_OPERATIONS:
                    self.read_units += units
                else:
                    self.write_units += units
                for name, index_units in (entry.get("GlobalSecondaryIndexes") or {}).items():
                    self.by_index[name] = self.by_index.get(name, 0.0) + float(index_units.get("CapacityUnits", 0) or 0)

    def reset(self) -> None:
        with self._lock:
            self.read_units = self.write_units = 0.0
            self.requests = 0
            self.by_index.clear()

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in METERED_OPERATIONS:
            params.setdefault("ReturnConsumedCapacity", "INDEXES")

    def _count(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        if model.name in METERED_OPERATIONS:
            self.record(model.name, parsed.get("ConsumedCapacity"))


@contextmanager
def metering(client: Any, meter: CapacityMeter | None = None) -> Iterator[CapacityMeter]:
    """Meter every request of a DynamoDB client (a resource's ``meta.client``) while the block runs."""
    meter = meter or CapacityMeter()
    events = client.meta.events
    events.register("before-parameter-build.dynamodb", meter._ask)
    events.register("after-call.dynamodb", meter._count)
    try:
        yield meter
    finally:
        events.unregister("before-parameter-build.dynamodb", meter._ask)
        events.unregister("after-call.dynamodb", meter._count)
