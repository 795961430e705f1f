"""`make load`: 20,000 events through Kafka into a private local stack, with readers on the HTTP API.

50 users hold 3 WebSocket connections each while 8 HTTP clients list and mark read for the whole
run. Reported: events produced, notifications stored, WebSocket deliveries, lost and duplicated
ones, HTTP errors, and the delivery latency. The goal is 0 lost, 0 duplicated, 0 HTTP errors.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from inbox.api.reader import InboxReader

from inbox_dev.bench import latency
from inbox_dev.bench.stats import machine
from inbox_dev.bench.suite import local_stack
from inbox_dev.stack import STATE_DIR
from inbox_dev.stack_process import store_of

RESULTS_FILE = STATE_DIR / "load" / "results.json"
LOAD = latency.LatencyRun(
    events=20_000, users=50, connections_per_user=3, rate_per_s=100.0, timeout_s=900.0, http_clients=8
)


def stored(state: dict[str, Any], users: list[str]) -> int:
    """Notifications in the users' inboxes, read or not, page by page."""
    store = store_of(state)
    total = 0
    for user in users:
        cursor = None
        while True:
            page = InboxReader(store.notifications).page(user, limit=100, cursor=cursor)
            total += len(page.items)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    return total


def run() -> dict[str, Any]:
    with local_stack() as state:
        print(f"… {LOAD.events:,} events at {LOAD.rate_per_s:g}/s", file=sys.stderr, flush=True)
        result = asyncio.run(latency.delivery_latency(state["ports"], LOAD, "load"))
        result["stored"] = stored(state, result.pop("users"))
    result.pop("latencies_ms")
    return {"machine": machine(), **result}


def report(result: dict[str, Any]) -> str:
    http = result["http"]
    statuses = ", ".join(
        f"{status}: {count:,}" for status, count in http.items() if status not in {"clients", "requests", "errors"}
    )
    met = result["lost"] == 0 and result["duplicated"] == 0 and http["errors"] == 0
    return "\n".join(
        [
            f"make load: {result['events']:,} events, {LOAD.users} users x {LOAD.connections_per_user} "
            f"connections, {http['clients']} HTTP clients ({result['machine']['cpus']} CPUs)",
            f"  produced     {result['produced']:,}",
            f"  stored       {result['stored']:,}",
            f"  delivered    {result['delivered']:,} of {result['expected_deliveries']:,} WebSocket messages",
            f"  lost         {result['lost']:,}",
            f"  duplicated   {result['duplicated']:,}",
            f"  HTTP         {http['requests']:,} requests, {http['errors']:,} errors ({statuses})",
            f"  latency      p50 {result['p50_ms']:,} ms, p99 {result['p99_ms']:,} ms, max {result['max_ms']:,} ms",
            f"  goal (0 lost, 0 duplicated, 0 HTTP errors): {'met' if met else 'not met'}",
        ]
    )


def main() -> int:
    result = run()
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(result, indent=2))
    print(report(result))
    print(f"\nJSON: {RESULTS_FILE}")
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 and result["http"]["errors"] == 0 else 1
