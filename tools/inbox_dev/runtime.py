"""Runs the template's functions locally, each in worker processes of its own, as Lambda would.

A worker is one execution environment: a fresh interpreter with only the function's code folder
and the layers on its path and only the template's environment variables, which imports the
handler once (the cold start) and then serves invocations one at a time. A function has a
small pool of them, so that concurrent requests run concurrently and a crash or a timeout
costs one worker, not the stack.
"""

from __future__ import annotations

import importlib
import io
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TextIO

from inbox_dev.faults.settings import FAULTS_VARIABLE
from inbox_dev.template import FunctionSpec

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
_SPAWN = multiprocessing.get_context("spawn")


class FunctionError(RuntimeError):
    """The invocation failed as a whole: the handler raised, timed out, or its worker died."""


class LambdaContext:
    """The context object Lambda passes to a handler, with a real deadline."""

    def __init__(self, function_name: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class _PrefixedLines(io.TextIOBase):
    """Writes each line to a log file and, if asked, to the console behind the function's name."""

    def __init__(self, prefix: str, log: TextIO, console: TextIO | None) -> None:
        self._prefix, self._log, self._console = prefix, log, console
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._log.write(line + "\n")
            if self._console is not None:
                self._console.write(f"{self._prefix} {line}\n")
        self._log.flush()
        if self._console is not None:
            self._console.flush()
        return len(text)


def load_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
    """Import the handler as Lambda does: the function's code folder first on the path."""
    sys.path.insert(0, str(spec.code_dir))
    handler: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(spec.module), spec.handler)
    return handler


def _serve(spec: FunctionSpec, environment: dict[str, str], log_path: str, echo: bool, channel: Connection) -> None:
    """The worker process: set up like Lambda, import the handler once, serve invocations."""
    # Ctrl-C reaches the whole process group; the stack stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environment)
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - open for the life of the worker
    sys.stdout = sys.stderr = _PrefixedLines(f"[{spec.logical_id}]", log, sys.__stdout__ if echo else None)
    try:
        if FAULTS_VARIABLE in environment:
            # Before the handler creates its clients; the deployed package knows nothing of it.
            from inbox_dev.faults import dynamodb

            dynamodb.install(environment)
        handler = load_handler(spec)
    except Exception as error:
        traceback.print_exc()
        channel.send(("init_error", f"{type(error).__name__}: {error}"))
        return
    channel.send(("ready", None))
    while True:
        try:
            event = channel.recv()
        except EOFError:
            return
        context = LambdaContext(spec.logical_id, spec.memory_mb, spec.timeout_s)
        try:
            channel.send(("ok", handler(event, context)))
        except Exception as error:
            traceback.print_exc()
            channel.send(("error", f"{type(error).__name__}: {error}"))


class _Worker:
    def __init__(self, spec: FunctionSpec, environment: dict[str, str], log_path: Path, echo: bool) -> None:
        self._spec = spec
        self._channel, child = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=_serve, args=(spec, environment, str(log_path), echo, child), name=spec.logical_id, daemon=True
        )
        self._process.start()
        child.close()
        self.init_error: str | None = None

    def wait_ready(self, timeout: float) -> None:
        status, detail = self._receive(timeout, "initialisation")
        if status != "ready":
            self.init_error = detail
            raise FunctionError(f"{self._spec.logical_id} failed to start: {detail}")

    def invoke(self, event: dict[str, Any]) -> Any:
        self._channel.send(event)
        status, result = self._receive(self._spec.timeout_s, "invocation")
        if status != "ok":
            raise FunctionError(f"{self._spec.logical_id}: {result}")
        return result

    def _receive(self, timeout: float, what: str) -> tuple[str, Any]:
        if not self._channel.poll(timeout):
            self.stop()
            raise FunctionError(f"{self._spec.logical_id}: {what} timed out after {timeout:.0f} seconds")
        try:
            message: tuple[str, Any] = self._channel.recv()
        except EOFError:
            self.stop()
            raise FunctionError(f"{self._spec.logical_id}: the worker exited during {what}") from None
        return message

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def stop(self) -> None:
        self._channel.close()
        self._process.terminate()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


@dataclass
class LocalFunction:
    """A function of the template with up to ``concurrency`` warm workers."""

    spec: FunctionSpec
    environment: dict[str, str]
    log_path: Path
    concurrency: int = 1
    echo: bool = False

    def __post_init__(self) -> None:
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.spec.logical_id

    def warm_up(self) -> None:
        """Start one worker and wait for its cold start: import errors surface here, with the reason."""
        with self._slots:
            self._idle.put(self._new_worker())

    def _new_worker(self) -> _Worker:
        worker = _Worker(self.spec, self.environment, self.log_path, self.echo)
        with self._lock:
            self._workers.append(worker)
        worker.wait_ready(timeout=60)
        return worker

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler with ``event`` and return its result; FunctionError if it fails as a whole."""
        with self._slots:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = self._new_worker()
            try:
                return worker.invoke(event)
            finally:
                if worker.alive:
                    self._idle.put(worker)

    def stop(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
