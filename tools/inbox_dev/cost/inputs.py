"""What the bill is made of that is measured: capacity units, handler durations, item sizes, memory sizes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from inbox_dev.cost.model import Measured
from inbox_dev.template import functions

# The functions the bill prices from their measured durations (the digest's are not in the model).
PRICED_FUNCTIONS = (
    "IngestFunction",
    "FanoutFunction",
    "ApiFunction",
    "WsAuthorizerFunction",
    "WsConnectFunction",
    "WsDisconnectFunction",
    "WsMessageFunction",
)


def dynamodb_bytes(value: Any) -> int:
    """An attribute value's size as DynamoDB bills it (names and values; numbers about half their digits)."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        return (len(str(value).lstrip("-").replace(".", "")) + 1) // 2 + 1
    if isinstance(value, Mapping):
        return 3 + sum(len(str(name).encode()) + dynamodb_bytes(inner) + 1 for name, inner in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(dynamodb_bytes(inner) + 1 for inner in value)
    return len(bytes(value))


def item_bytes(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode()) + dynamodb_bytes(value) for name, value in item.items())


def item_sizes() -> dict[str, int]:
    """The typical items ingest writes: a group of three actors, a mention, a group's member item."""
    from inbox.store.keys import ItemKind, key

    from inbox_dev.capacity import filled_item, like

    user, now = "user-0123456789", 1_795_000_000_000
    liked = like(user, 1)
    member = {**key(user, ItemKind.MEMBER, liked.notification_id), "g": "g" * 22, "ttl": now // 1000}
    return {
        "group": item_bytes(filled_item(user, 0, now)),
        "single": item_bytes(filled_item(user, 9, now)),  # every tenth filled entry is a mention
        "member": item_bytes(member),
    }


def measured(results_file: Path) -> tuple[Measured, str]:
    """The inputs from the last `make bench` if it has them, else measured now; with their source."""
    memory = {name: spec.memory_mb for name, spec in functions().items()}
    if results_file.exists():
        results = json.loads(results_file.read_text())
        if set(PRICED_FUNCTIONS) <= set(results.get("durations", {})) and "capacity" in results:
            return Measured(
                results["capacity"], results["durations"], item_sizes(), memory
            ), f"make bench of {results['date']}"
    from inbox_dev import capacity
    from inbox_dev.bench import durations
    from inbox_dev.bench.inprocess import in_process_aws

    with in_process_aws() as aws:
        figures = Measured(capacity.measure("cost"), durations.measure(aws), item_sizes(), memory)
    return figures, "measured now (no make bench results)"
