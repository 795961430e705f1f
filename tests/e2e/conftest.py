"""The local stack as a user starts it (`python -m inbox_dev dev`), on free ports, once per session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from confluent_kafka import Producer
from inbox_dev.stack_process import READY_LINE, STARTUP_SECONDS, StackProcess, port_flags, stack_command, stack_ports


@dataclass
class RunningStack:
    """What a test talks to: the page's server, the HTTP API, the WebSocket API and Kafka."""

    page: str
    http_api: str
    websocket: str
    kafka: str
    producer: Producer
    state_dir: Path  # where the stack writes about itself: the CLI's --state-dir

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
    command = stack_command("--quiet", "--state-dir", str(state_dir), *port_flags(ports))
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
            state_dir=state_dir,
        )
        assert stack.interrupt() == 0, "\n".join(stack.output[-40:])
    finally:
        stack.kill()
