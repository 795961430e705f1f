"""The local stack as a user starts it (`python -m inbox_dev dev`), in a process of its own.

Tests and benchmarks drive it this way so that they measure and exercise what a developer runs,
and so that their own clients do not share an interpreter with the stack.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from inbox_dev.processes import free_port
from inbox_dev.template import PROJECT_ROOT

if TYPE_CHECKING:
    from inbox.store import Store

READY_LINE = "Local stack ready"
STARTUP_SECONDS = 180


@dataclass
class StackProcess:
    """A running stack: its process, its output so far, and the ports it was given."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    output: list[str] = field(default_factory=list)
    _reader: threading.Thread = field(init=False, repr=False)

    @classmethod
    def start(
        cls, command: list[str], ports: dict[str, int], environment: Mapping[str, str] | None = None
    ) -> StackProcess:
        """Run ``command`` with this process's environment, and ``environment`` on top of it."""
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=PROJECT_ROOT,
            env={**os.environ, **(environment or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        running = cls(process, ports)
        running._reader = threading.Thread(target=running._read, daemon=True)
        running._reader.start()
        return running

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.output):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear; output so far:\n" + "\n".join(self.output[-60:]))

    def interrupt(self, timeout: float = 90) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group; returns once all its output is read."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def stack_ports() -> dict[str, int]:
    names = ("page", "http", "websocket", "dynamodb", "kafka", "sns")
    return {name: free_port() for name in names}


def port_flags(ports: dict[str, int]) -> list[str]:
    return [flag for name, port in ports.items() for flag in (f"--{name}-port", str(port))]


def stack_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "inbox_dev", "dev", *arguments]


def store_of(state: dict[str, Any]) -> Store:
    """The store of the running stack's table, from what the stack wrote about itself."""
    import boto3
    from inbox.settings import TableSettings
    from inbox.store import Store

    environment = state["functions"]["ApiFunction"]
    settings = TableSettings.model_validate(environment)
    table = boto3.resource(
        "dynamodb",
        endpoint_url=state["dynamodb"],
        region_name=environment["AWS_DEFAULT_REGION"],
        aws_access_key_id=environment["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=environment["AWS_SECRET_ACCESS_KEY"],
    ).Table(settings.table_name)
    return Store.on(
        table,
        notification_ttl_seconds=settings.notification_ttl_seconds,
        connection_ttl_seconds=settings.connection_ttl_seconds,
        region=settings.region,
    )
