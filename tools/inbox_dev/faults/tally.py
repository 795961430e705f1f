"""Counts of injected faults that outlive the processes that injected them.

Function workers are terminated, not asked to exit, so each process keeps its counts in a small
file of its own (``<kind>.<source>.<pid>.json``), rewritten after every request it saw; the
stack's runner adds them up once the stack has stopped.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Counts:
    attempts: int = 0  # requests that could have been answered with the fault
    injected: int = 0  # requests answered with it
    gave_up: int = 0  # injected into the client's last attempt: the caller got the error

    def add(self, other: Counts) -> None:
        self.attempts += other.attempts
        self.injected += other.injected
        self.gave_up += other.gave_up


class Tally:
    """One process's counts of one kind of fault, from one source (a function, the gateway)."""

    def __init__(self, directory: Path, kind: str, source: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.counts = Counts()
        self._lock = threading.Lock()
        self._fd = os.open(directory / f"{kind}.{source}.{os.getpid()}.json", os.O_WRONLY | os.O_CREAT, 0o644)
        self._write()

    def count(self, *, injected: bool, last_attempt: bool) -> None:
        with self._lock:
            self.counts.attempts += 1
            self.counts.injected += injected
            self.counts.gave_up += injected and last_attempt
            self._write()

    def _write(self) -> None:
        # One write at offset 0: counts only grow, so the text never gets shorter than what it replaces.
        os.pwrite(self._fd, json.dumps(asdict(self.counts)).encode(), 0)


def clear(directory: Path) -> None:
    """Forget the counts of an earlier run in this directory."""
    for path in directory.glob("*.json"):
        path.unlink()


def read(directory: Path) -> dict[str, dict[str, Counts]]:
    """Kind -> source -> counts, summed over the processes."""
    totals: dict[str, dict[str, Counts]] = {}
    for path in sorted(directory.glob("*.*.*.json")):
        kind, source, _ = path.name.removesuffix(".json").split(".")
        counts = Counts(**json.loads(path.read_text()))
        totals.setdefault(kind, {}).setdefault(source, Counts()).add(counts)
    return totals


def total(by_source: dict[str, Counts]) -> Counts:
    summed = Counts()
    for counts in by_source.values():
        summed.add(counts)
    return summed
