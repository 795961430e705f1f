"""The local stand-in for the event source mappings' on-failure destinations: a JSON Lines file."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any


class DeadLetters:
    """Batches that a function could not process after its retries, as Lambda would send them on.

    Kept in memory for the dev page and appended to a JSON Lines file that outlives the run.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._items: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, *, source: str, function: str, reason: str, records: list[dict[str, Any]]) -> None:
        entry = {"at": time.time(), "source": source, "function": function, "reason": reason, "records": records}
        with self._lock:
            self._items.append(entry)
            if self._path is not None:
                with self._path.open("a") as handle:
                    handle.write(json.dumps(entry, default=str) + "\n")

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)
