"""The background thread every poller is: it feeds one mapping's batches to its function until stopped."""

from __future__ import annotations

import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from typing import Any

from inbox_dev.dead_letters import DeadLetters
from inbox_dev.event_sources.batching import BatchDelivery, Invoke, Record, Report

LOGGER = logging.getLogger(__name__)

# After a fault of the broker, of DynamoDB Local or of the local stack, a poller waits this long to try again.
FAULT_PAUSE_S = 1.0

# A developer option of the local stack, never deployed: a file that gets a JSON line per invocation a
# poller makes (retries too), {"source": ..., "function": ...}, so that make bench can count invocations.
INVOCATION_LOG_VARIABLE = "INBOX_DEV_INVOCATION_LOG"
_INVOCATION_LOG_LOCK = threading.Lock()


class Stopped(Exception):
    """The poller is stopping: the batch in hand is left unfinished (and uncommitted)."""


class Poller(ABC):
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
        self._invocation_log = os.environ.get(INVOCATION_LOG_VARIABLE)
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
            raise Stopped
        if self._invocation_log:
            line = json.dumps({"source": self._source, "function": self._function})
            with _INVOCATION_LOG_LOCK, open(self._invocation_log, "a") as log:
                log.write(line + "\n")
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
