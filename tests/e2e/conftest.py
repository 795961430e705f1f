"""The local stack as a user starts it (`python -m inbox_dev dev`), on free ports, once per session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from confluent_kafka import Producer
from inbox_dev.dynamodb_local import free_port
from inbox_dev.template import PROJECT_ROOT

READY_LINE = "Local stack ready"
STARTUP_SECONDS = 180


@dataclass
class StackProcess:
    """A running stack: its process, its output so far, and the ports it was given."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    output: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, command: list[str], ports: dict[str, int]) -> StackProcess:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        running = cls(process, ports)
        threading.Thread(target=running._read, daemon=True).start()
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
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def stack_ports() -> dict[str, int]:
    names = ("page", "http", "websocket", "dynamodb", "kafka", "sns")
    return {name: free_port() for name in names}


def port_flags(ports: dict[str, int]) -> list[str]:
    return [flag for name, port in ports.items() for flag in (f"--{name}-port", str(port))]


@dataclass
class RunningStack:
    """What a test talks to: the page's server, the HTTP API, the WebSocket API and Kafka."""

    page: str
    http_api: str
    websocket: str
    kafka: str
    producer: Producer

    def token(self, user: str) -> str:
        response = requests.post(f"{self.page}/dev/token", json={"user": user}, timeout=10)
        response.raise_for_status()
        return str(response.json()["token"])

    def produce(self, topic: str, value: dict[str, Any] | bytes) -> None:
        data = value if isinstance(value, bytes) else json.dumps(value).encode()
        self.producer.produce(topic, value=data)
        assert self.producer.flush(10) == 0

    def api(self, method: str, path: str, token: str | None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, f"{self.http_api}{path}", headers=headers, timeout=30, **kwargs)

    def dev(self, path: str) -> Any:
        response = requests.get(f"{self.page}{path}", timeout=10)
        response.raise_for_status()
        return response.json()


def wait_until(condition: Any, timeout: float = 30, interval: float = 0.2) -> Any:
    """Poll until ``condition()`` returns something truthy; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    ports = stack_ports()
    state_dir = tmp_path_factory.mktemp("stack")
    command = [sys.executable, "-m", "inbox_dev", "dev", "--quiet", "--state-dir", str(state_dir), *port_flags(ports)]
    stack = StackProcess.start(command, ports)
    try:
        stack.wait_for(READY_LINE, STARTUP_SECONDS)
        host = "http://127.0.0.1"
        producer = Producer({"bootstrap.servers": f"127.0.0.1:{ports['kafka']}"})
        yield RunningStack(
            page=f"{host}:{ports['page']}",
            http_api=f"{host}:{ports['http']}",
            websocket=f"ws://127.0.0.1:{ports['websocket']}/live",
            kafka=f"127.0.0.1:{ports['kafka']}",
            producer=producer,
        )
        assert stack.interrupt() == 0, "\n".join(stack.output[-40:])
    finally:
        stack.kill()
