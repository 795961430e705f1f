"""Delivery latency: events produced to Kafka until the recipients' WebSocket connections receive
them, through the whole local pipeline (Kafka mapping, ingest, DynamoDB, stream mapping, fanout,
Management API). Each run has users of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from confluent_kafka import Producer
from websockets.asyncio.client import ClientConnection, connect

from inbox_dev.bench.stats import percentile, summary
from inbox_dev.samples import sample_event

HOST = "127.0.0.1"
REPETITIONS = 3


@dataclass(frozen=True)
class LatencyRun:
    events: int = 1000
    users: int = 50
    connections_per_user: int = 3
    rate_per_s: float = 200.0
    timeout_s: float = 120.0


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


async def delivery_latency(ports: dict[str, int], run: LatencyRun, name: str) -> dict[str, Any]:
    users = [f"{name}-user-{index:03d}" for index in range(run.users)]
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
        resource_id = f"{name}-post-{index:05d}"
        value = sample_event("message-liked", actor=f"{name}-actor-{index}", recipient=users[index % run.users])
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
        "latencies_ms": [round(value, 1) for value in latencies],
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


def measure(ports: dict[str, int], run: LatencyRun | None = None) -> dict[str, Any]:
    """Several runs; p50 and p99 are the medians of the runs' own percentiles."""
    run = run or LatencyRun()
    runs = [asyncio.run(delivery_latency(ports, run, f"latency-{index}")) for index in range(REPETITIONS)]
    # Every delivery's latency, for the chart; the runs keep their summaries only.
    latencies = [value for result in runs for value in result.pop("latencies_ms")]
    p50s = [result["p50_ms"] for result in runs if result["p50_ms"] is not None]
    p99s = [result["p99_ms"] for result in runs if result["p99_ms"] is not None]
    return {
        "p50_ms": statistics.median(p50s) if p50s else None,
        "p99_ms": statistics.median(p99s) if p99s else None,
        "p50": summary(p50s) if p50s else None,
        "p99": summary(p99s) if p99s else None,
        "lost": sum(result["lost"] for result in runs),
        "runs": runs,
        "latencies_ms": latencies,
    }
