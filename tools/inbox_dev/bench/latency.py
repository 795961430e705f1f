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
from collections import Counter
from dataclasses import dataclass, field
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
    # HTTP clients listing and marking read for the whole run (the load run's; none for latency).
    http_clients: int = 0
    # When set, the run also ends once everything was produced and no message came for this long:
    # under injected faults some messages never come, and waiting out timeout_s would tell nothing more.
    quiet_s: float | None = None


class _Deliveries:
    """When each connection first received each notification, keyed by the event's resource id."""

    def __init__(self, expected: int) -> None:
        self.received: dict[str, list[float]] = {}
        self.expected = expected
        self.delivered = 0
        self.duplicates = 0
        # Per connection index, what it received once and what it received again.
        self.delivered_to: Counter[int] = Counter()
        self.duplicated_to: Counter[int] = Counter()
        self.last_at = time.monotonic()
        self.complete = asyncio.Event()
        self._seen: set[tuple[int, str]] = set()

    async def listen(self, index: int, connection: ClientConnection) -> None:
        async for raw in connection:
            message = json.loads(raw)
            if message.get("type") != "notification.created":
                continue
            at = self.last_at = time.monotonic()
            notification = message["notification"]
            if (index, notification["id"]) in self._seen:
                self.duplicates += 1
                self.duplicated_to[index] += 1
                continue
            self._seen.add((index, notification["id"]))
            self.received.setdefault(notification["resource"]["id"], []).append(at)
            self.delivered += 1
            self.delivered_to[index] += 1
            if self.delivered >= self.expected:
                self.complete.set()


@dataclass
class _HttpTally:
    requests: int = 0
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
            if not outcome.startswith("2"):
                self.errors += 1


def _browse(http_api: str, tokens: list[str], client: int, stop: threading.Event, tally: _HttpTally) -> None:
    """One client: list a user's newest 20 and mark the first unread one read, user after user."""
    session = requests.Session()
    turn = client
    while not stop.is_set():
        headers = {"Authorization": f"Bearer {tokens[turn % len(tokens)]}"}
        turn += 1
        try:
            listed = session.get(f"{http_api}/notifications", params={"limit": 20}, headers=headers, timeout=30)
            tally.count(str(listed.status_code))
            unread = [item["id"] for item in listed.json().get("items", []) if not item["read"]]
            if unread:
                marked = session.post(f"{http_api}/notifications/{unread[0]}/read", headers=headers, timeout=30)
                tally.count(str(marked.status_code))
        except (requests.RequestException, ValueError) as error:
            tally.count(type(error).__name__)


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


async def _settled(deliveries: _Deliveries, producer: threading.Thread, run: LatencyRun) -> None:
    """Until every message came, or timeout_s passed, or (with quiet_s) all was produced and the connections went quiet.

    A timeout is a result too: what did not arrive is reported as lost.
    """
    if run.quiet_s is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deliveries.complete.wait(), run.timeout_s)
        return
    deadline = time.monotonic() + run.timeout_s
    produced_at: float | None = None
    while not deliveries.complete.is_set() and time.monotonic() < deadline:
        if produced_at is None and not producer.is_alive():
            produced_at = time.monotonic()
        # Quiet since the last message, or since the last event if none came after it (a slow start).
        if produced_at is not None and time.monotonic() - max(deliveries.last_at, produced_at) >= run.quiet_s:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deliveries.complete.wait(), 0.5)


async def delivery_latency(ports: dict[str, int], run: LatencyRun, name: str) -> dict[str, Any]:
    users = [f"{name}-user-{index:03d}" for index in range(run.users)]
    deliveries = _Deliveries(expected=run.events * run.connections_per_user)
    tokens, connections = [], []
    for user in users:
        token = requests.post(f"http://{HOST}:{ports['page']}/dev/token", json={"user": user}, timeout=10).json()
        tokens.append(token["token"])
        for _ in range(run.connections_per_user):
            url = f"ws://{HOST}:{ports['websocket']}/live?token={token['token']}"
            connections.append(await connect(url, max_queue=None))
    listeners = [asyncio.create_task(deliveries.listen(index, ws)) for index, ws in enumerate(connections)]
    plan = []
    for index in range(run.events):
        resource_id = f"{name}-post-{index:05d}"
        value = sample_event("message-liked", actor=f"{name}-actor-{index}", recipient=users[index % run.users])
        plan.append((resource_id, {**value, "postId": resource_id}))
    sent: dict[str, float] = {}
    producer = threading.Thread(target=_produce, args=(f"{HOST}:{ports['kafka']}", plan, run.rate_per_s, sent))
    stop, tally = threading.Event(), _HttpTally()
    http_api = f"http://{HOST}:{ports['http']}"
    browsers = [
        threading.Thread(target=_browse, args=(http_api, tokens, client, stop, tally))
        for client in range(run.http_clients)
    ]
    for thread in (producer, *browsers):
        thread.start()
    await _settled(deliveries, producer, run)
    producer.join()
    # A moment for late duplicates to show before the connections close.
    await asyncio.sleep(1)
    stop.set()
    for thread in browsers:
        thread.join()
    for task in listeners:
        task.cancel()
    for connection in connections:
        await connection.close()
    latencies = [(at - sent[resource_id]) * 1000 for resource_id, times in deliveries.received.items() for at in times]
    per_user = Counter(index % run.users for index in range(run.events))
    per_connection = [
        {
            "user": users[index // run.connections_per_user],
            "expected": per_user[index // run.connections_per_user],
            "delivered": deliveries.delivered_to[index],
            "duplicated": deliveries.duplicated_to[index],
        }
        for index in range(len(connections))
    ]
    return {
        "latencies_ms": [round(value, 1) for value in latencies],
        "events": run.events,
        "produced": len(sent),
        "users": users,
        "connections": len(connections),
        "expected_deliveries": deliveries.expected,
        "delivered": deliveries.delivered,
        "lost": deliveries.expected - deliveries.delivered,
        "duplicated": deliveries.duplicates,
        "per_connection": per_connection,
        "http": {"clients": run.http_clients, "requests": tally.requests, "errors": tally.errors, **tally.statuses},
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
    for result in runs:
        result["users"] = len(result["users"])
        del result["per_connection"]
    p50s = [result["p50_ms"] for result in runs if result["p50_ms"] is not None]
    p99s = [result["p99_ms"] for result in runs if result["p99_ms"] is not None]
    return {
        "p50_ms": statistics.median(p50s) if p50s else None,
        "p99_ms": statistics.median(p99s) if p99s else None,
        "p50": summary(p50s) if p50s else None,
        "p99": summary(p99s) if p99s else None,
        "lost": sum(result["lost"] for result in runs),
        "duplicated": sum(result["duplicated"] for result in runs),
        "runs": runs,
        "latencies_ms": latencies,
    }
