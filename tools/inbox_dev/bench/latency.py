"""Delivery latency: events produced to Kafka until the recipients' WebSocket connections receive
them, through the whole local pipeline (Kafka mapping, ingest, DynamoDB, stream mapping, fanout,
Management API). Each run has users of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from confluent_kafka import Producer
from websockets.asyncio.client import ClientConnection, connect

from inbox_dev.bench.stats import percentile, summary
from inbox_dev.cost.model import prices
from inbox_dev.event_sources.mappings import KAFKA_WINDOW_VARIABLE, kafka_mappings
from inbox_dev.event_sources.poller import INVOCATION_LOG_VARIABLE
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
        # When ingest stored each entry (its createdAt), on this process's monotonic clock.
        self.stored: dict[str, float] = {}
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
            created = datetime.fromisoformat(notification["createdAt"]).timestamp()
            self.stored.setdefault(notification["resource"]["id"], created - time.time() + time.monotonic())
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
    # Where the time goes: Kafka, its batching window and ingest, then the stream, fan-out and the socket.
    to_store = [(at - sent[resource_id]) * 1000 for resource_id, at in deliveries.stored.items()]
    to_socket = [
        (at - deliveries.stored[resource_id]) * 1000
        for resource_id, times in deliveries.received.items()
        for at in times
    ]
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
        "stored_p50_ms": round(percentile(to_store, 0.50), 1) if to_store else None,
        "stored_p99_ms": round(percentile(to_store, 0.99), 1) if to_store else None,
        "stored_to_socket_p50_ms": round(percentile(to_socket, 0.50), 1) if to_socket else None,
        "stored_to_socket_p99_ms": round(percentile(to_socket, 0.99), 1) if to_socket else None,
    }


# A rate two cores sustain, then a doubling search for the highest rate whose p99 stays under the goal.
AT_RATE_PER_S = 20.0
AT_RATE_RUNS = 2
SEARCH_RATES_PER_S = (40.0, 80.0, 160.0, 320.0)
# Events produced per run: the rate for this long (the drain after it is bounded by DRAIN_S).
RUN_SECONDS = 10.0
DRAIN_S = 20.0
GOAL_P99_MS = 1000.0
# The Kafka mappings' MaximumBatchingWindowInSeconds compared at AT_RATE_PER_S (the template's is one of them).
WINDOWS_S = (0.0, 0.5, 1.0)

StackFactory = Callable[[Mapping[str, str]], AbstractContextManager[dict[str, Any]]]


def _template_window_s() -> float:
    windows = {mapping.batching_window_s for mapping in kafka_mappings()}
    if len(windows) != 1:
        raise ValueError(f"the template's Kafka mappings batch for different windows: {sorted(windows)}")
    return windows.pop()


def _invocations(log: Path) -> Counter[str]:
    """Invocations so far per function, from the local stack's invocation log."""
    if not log.exists():
        return Counter()
    return Counter(json.loads(line)["function"] for line in log.read_text().splitlines())


_SPLIT_KEYS = ("stored_p50_ms", "stored_p99_ms", "stored_to_socket_p50_ms", "stored_to_socket_p99_ms")


def _median_of(results: list[dict[str, Any]], key: str) -> float | None:
    values = [result[key] for result in results if result[key] is not None]
    return statistics.median(values) if values else None


def _at_rate(ports: dict[str, int], log: Path, rate: float, runs: int, name: str) -> dict[str, Any]:
    """``runs`` runs at ``rate``; p50 and p99 are the medians of the runs' own percentiles."""
    shape = LatencyRun(events=int(rate * RUN_SECONDS), rate_per_s=rate, timeout_s=RUN_SECONDS + DRAIN_S)
    before = _invocations(log)
    results = [asyncio.run(delivery_latency(ports, shape, f"{name}-{index}")) for index in range(runs)]
    invoked = _invocations(log) - before
    events = shape.events * runs
    p50s = [result["p50_ms"] for result in results if result["p50_ms"] is not None]
    p99s = [result["p99_ms"] for result in results if result["p99_ms"] is not None]
    lost = sum(result["lost"] for result in results)
    p99 = statistics.median(p99s) if p99s else None
    request_price = float(prices()["lambda"]["requests_per_million"])
    return {
        "rate_per_s": rate,
        "events": events,
        "runs": runs,
        "p50_ms": statistics.median(p50s) if p50s else None,
        "p99_ms": p99,
        "p50": summary(p50s) if p50s else None,
        "p99": summary(p99s) if p99s else None,
        # Kafka to the stored entry, and the stored entry to the socket (medians of the runs' percentiles).
        **{key: _median_of(results, key) for key in _SPLIT_KEYS},
        "lost": lost,
        "duplicated": sum(result["duplicated"] for result in results),
        # A message that never came is later than any goal.
        "under_goal": p99 is not None and p99 < GOAL_P99_MS and lost == 0,
        "invocations_per_1000_events": {name: round(count * 1000 / events, 1) for name, count in invoked.items()},
        # Lambda's request charge alone: an invocation's duration is billed apart (make cost).
        "request_usd_per_million_events": round(sum(invoked.values()) / events * request_price, 4),
        "latencies_ms": [value for result in results for value in result["latencies_ms"]],
    }


def _max_rate_under_goal(
    ports: dict[str, int], log: Path, at_rate: dict[str, Any]
) -> tuple[float | None, dict[str, Any]]:
    """Doubling rates from AT_RATE_PER_S until p99 reaches the goal, then one rate halfway back."""
    by_rate = {str(AT_RATE_PER_S): at_rate}
    best = AT_RATE_PER_S if at_rate["under_goal"] else None
    failed = None if best is not None else AT_RATE_PER_S
    for rate in SEARCH_RATES_PER_S if best is not None else ():
        result = by_rate[str(rate)] = _at_rate(ports, log, rate, 1, f"rate-{rate:g}")
        if not result["under_goal"]:
            failed = rate
            break
        best = rate
    if best is not None and failed is not None:
        rate = (best + failed) / 2
        result = by_rate[str(rate)] = _at_rate(ports, log, rate, 1, f"rate-{rate:g}")
        best = rate if result["under_goal"] else best
    return best, by_rate


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    """A run's figures without its every latency (the chart's, kept once)."""
    return {key: value for key, value in result.items() if key != "latencies_ms"}


def measure(local_stack: StackFactory) -> dict[str, Any]:
    """Kafka → WebSocket at AT_RATE_PER_S for each batching window, each in a local stack of its own, and the
    highest rate under the goal with the template's window. ``local_stack`` starts a stack with extra environment."""
    template_window = _template_window_s()
    by_window: dict[str, dict[str, Any]] = {}
    at_rate: dict[str, Any] = {}
    by_rate: dict[str, Any] = {}
    max_rate: float | None = None
    for window in sorted({template_window, *WINDOWS_S}):
        log = Path(tempfile.mkdtemp(prefix="inbox-bench-invocations-")) / "invocations.jsonl"
        environment = {KAFKA_WINDOW_VARIABLE: str(window), INVOCATION_LOG_VARIABLE: str(log)}
        with local_stack(environment) as state:
            result = _at_rate(state["ports"], log, AT_RATE_PER_S, AT_RATE_RUNS, f"window-{window:g}")
            if window == template_window:
                at_rate = result
                max_rate, by_rate = _max_rate_under_goal(state["ports"], log, at_rate)
        by_window[str(window)] = _figures(result)
    return {
        "window_s": template_window,
        "at_20_per_s": _figures(at_rate),
        "max_rate_under_1s": max_rate,
        "by_rate": {rate: _figures(result) for rate, result in by_rate.items()},
        "by_window": by_window,
        # Every delivery's latency at AT_RATE_PER_S with the template's window, for the chart.
        "latencies_ms": at_rate["latencies_ms"],
    }
