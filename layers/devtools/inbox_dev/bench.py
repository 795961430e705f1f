"""Benchmarks against the local stack (`make bench`): figures to compare, not assertions.

Delivery latency: events produced to Kafka until the recipients' WebSocket connections receive
them, through the whole local pipeline (Kafka mapping, ingest, DynamoDB, stream mapping, fanout,
Management API).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Producer
from websockets.asyncio.client import ClientConnection, connect

from inbox_dev.samples import sample_event
from inbox_dev.stack import STATE_DIR
from inbox_dev.stack_process import READY_LINE, STARTUP_SECONDS, StackProcess, port_flags, stack_command, stack_ports

RESULTS_FILE = STATE_DIR / "bench" / "results.json"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class LatencyRun:
    events: int = 1000
    users: int = 50
    connections_per_user: int = 3
    rate_per_s: float = 200.0
    timeout_s: float = 120.0


def machine() -> dict[str, Any]:
    memory_kb = 0
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class _Deliveries:
    """When each connection received each notification, keyed by the event's resource id."""

    def __init__(self) -> None:
        self.received: dict[str, list[float]] = {}
        self.complete = asyncio.Event()
        self.expected = 0

    async def listen(self, connection: ClientConnection) -> None:
        async for raw in connection:
            message = json.loads(raw)
            if message.get("type") != "notification.created":
                continue
            at = time.monotonic()
            self.received.setdefault(message["notification"]["resource"]["id"], []).append(at)
            if sum(len(times) for times in self.received.values()) >= self.expected:
                self.complete.set()


def _produce(kafka: str, plan: list[tuple[str, dict[str, Any]]], rate: float, sent: dict[str, float]) -> None:
    producer = Producer({"bootstrap.servers": kafka, "linger.ms": 0})
    interval = 1 / rate
    began = time.monotonic()
    for index, (resource_id, value) in enumerate(plan):
        delay = began + index * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent[resource_id] = time.monotonic()
        producer.produce("message-liked", value=json.dumps(value).encode())
        producer.poll(0)
    producer.flush(30)


async def delivery_latency(ports: dict[str, int], run: LatencyRun) -> dict[str, Any]:
    users = [f"bench-user-{index:03d}" for index in range(run.users)]
    deliveries = _Deliveries()
    connections = []
    for user in users:
        token = requests.post(f"http://{HOST}:{ports['page']}/dev/token", json={"user": user}, timeout=10).json()
        for _ in range(run.connections_per_user):
            url = f"ws://{HOST}:{ports['websocket']}/live?token={token['token']}"
            connections.append(await connect(url, max_queue=None))
    listeners = [asyncio.create_task(deliveries.listen(connection)) for connection in connections]
    plan = []
    for index in range(run.events):
        resource_id = f"bench-post-{index:05d}"
        value = sample_event("message-liked", actor="bench-actor", recipient=users[index % run.users])
        plan.append((resource_id, {**value, "postId": resource_id}))
    deliveries.expected = run.events * run.connections_per_user
    sent: dict[str, float] = {}
    producer = threading.Thread(target=_produce, args=(f"{HOST}:{ports['kafka']}", plan, run.rate_per_s, sent))
    producer.start()
    # A timeout is a result too: what did not arrive is reported as lost.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(deliveries.complete.wait(), run.timeout_s)
    producer.join()
    for task in listeners:
        task.cancel()
    for connection in connections:
        await connection.close()
    latencies = [(at - sent[resource_id]) * 1000 for resource_id, times in deliveries.received.items() for at in times]
    delivered = len(latencies)
    return {
        "events": run.events,
        "users": run.users,
        "connections": len(connections),
        "expected_deliveries": deliveries.expected,
        "delivered": delivered,
        "lost": deliveries.expected - delivered,
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
    }


def run_benchmarks(run: LatencyRun | None = None) -> dict[str, Any]:
    """Start a private local stack on free ports, in its own process as `make dev` runs; measure; stop it."""
    ports = stack_ports()
    state_dir = tempfile.mkdtemp(prefix="inbox-bench-")
    stack = StackProcess.start(stack_command("--quiet", "--state-dir", state_dir, *port_flags(ports)), ports)
    try:
        stack.wait_for(READY_LINE, STARTUP_SECONDS)
        latency = asyncio.run(delivery_latency(ports, run or LatencyRun()))
        stack.interrupt()
    finally:
        stack.kill()
    return {"machine": machine(), "latency": latency}


def report(results: dict[str, Any]) -> str:
    latency, host = results["latency"], results["machine"]
    lines = [
        f"Delivery latency, Kafka produce → WebSocket receive ({host['cpus']} CPUs, {host['memory_gib']} GiB, "
        f"Python {host['python']})",
        f"  {latency['events']} events over {latency['users']} users, {latency['connections']} connections",
        f"  delivered {latency['delivered']} of {latency['expected_deliveries']} (lost {latency['lost']})",
        f"  p50 {latency['p50_ms']} ms   p99 {latency['p99_ms']} ms   max {latency['max_ms']} ms",
    ]
    return "\n".join(lines)


def main() -> int:
    results = run_benchmarks()
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2))
    print(report(results))
    print(f"JSON: {RESULTS_FILE}")
    return 0
