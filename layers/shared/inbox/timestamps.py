"""Times as the product writes them: epoch milliseconds in items, ISO 8601 with a "Z" on the wire."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def now_s() -> int:
    return int(time.time())


def from_ms(value: Any) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def iso_z(value: datetime) -> str:
    """UTC to the millisecond, "Z" for the zone: 2026-12-02T18:33:27.000Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> datetime:
    return datetime.now(UTC)
