"""`make load`: 20,000 events through Kafka into a private local stack, with readers on the HTTP API.

50 users hold 3 WebSocket connections each while 8 HTTP clients list and mark read for the whole
run. Reported: events produced, notifications stored, WebSocket deliveries, lost and duplicated
ones, HTTP errors, and the delivery latency. The goal is 0 lost, 0 duplicated, 0 HTTP errors.

With ``--faults`` the stack injects faults while the load runs (inbox_dev.faults): 5 % of the
Management API's posts answer 500 and 10 % of the functions' DynamoDB calls are throttled. The
goal is then 0 lost from the table; what each connection received, missed and received twice is
reported, with the faults the stack counted of each kind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from inbox.api.reader import InboxReader

from inbox_dev.bench import latency
from inbox_dev.bench.stats import machine
from inbox_dev.bench.suite import local_stack
from inbox_dev.faults import tally
from inbox_dev.faults.settings import DYNAMODB_THROTTLE, FAULTS_VARIABLE, MANAGEMENT_API_500, FaultRates
from inbox_dev.stack import FAULTS_DIR_NAME, STATE_DIR
from inbox_dev.stack_process import store_of

RESULTS_DIR = STATE_DIR / "load"
LOAD = latency.LatencyRun(
    events=20_000, users=50, connections_per_user=3, rate_per_s=100.0, timeout_s=900.0, http_clients=8
)
FAULTS = FaultRates(dynamodb_throttle=0.10, management_api_500=0.05)
# Under faults some messages never come: the run ends once the connections were quiet this long,
# longer than botocore's backoff before a throttled call's fifth attempt (1 + 2 + 4 + 8 s at most).
QUIET_S = 30.0


def stored(state: dict[str, Any], users: list[str]) -> int:
    """Notifications in the users' inboxes, read or not, page by page."""
    store = store_of(state)
    total = 0
    for user in users:
        cursor = None
        while True:
            page = InboxReader(store.queries).page(user, limit=100, cursor=cursor)
            total += len(page.items)
            if not page.next_cursor:
                break
            cursor = page.next_cursor
    return total


def _dead_letters(state_dir: Path) -> int:
    path = state_dir / "dead-letters.jsonl"
    if not path.exists():
        return 0
    return sum(len(json.loads(line)["records"]) for line in path.read_text().splitlines() if line.strip())


def _faults_injected(directory: Path) -> dict[str, Any]:
    """Each kind of fault: its totals and, per source (function or gateway), what the stack's processes counted."""
    counted = tally.read(directory)
    return {
        kind: {
            **dataclasses.asdict(tally.total(counted.get(kind, {}))),
            "by_source": {source: dataclasses.asdict(counts) for source, counts in counted.get(kind, {}).items()},
        }
        for kind in (DYNAMODB_THROTTLE, MANAGEMENT_API_500)
    }


def run(shape: latency.LatencyRun = LOAD, faults: FaultRates | None = None) -> dict[str, Any]:
    """One load run; with ``faults``, the stack injects them and the result counts them."""
    # Set either way: a variable left in the caller's shell must not put faults into a plain run.
    environment = {FAULTS_VARIABLE: str(faults or FaultRates())}
    if faults:
        shape = dataclasses.replace(shape, quiet_s=QUIET_S)
    with local_stack(environment) as state:
        print(f"… {shape.events:,} events at {shape.rate_per_s:g}/s", file=sys.stderr, flush=True)
        result = asyncio.run(latency.delivery_latency(state["ports"], shape, "load"))
        result["stored"] = stored(state, result.pop("users"))
    # Read once the stack has stopped: its processes counted until then.
    state_dir = Path(state["state_dir"])
    result["dead_letters"] = _dead_letters(state_dir)
    result.pop("latencies_ms")
    shown = {"users": shape.users, "connections_per_user": shape.connections_per_user}
    if faults:
        rates = dataclasses.asdict(faults)
        result["faults"] = {"rates": rates, **_faults_injected(state_dir / FAULTS_DIR_NAME)}
        result["lost_from_table"] = result["produced"] - result["stored"]
    return {"machine": machine(), **shown, **result}


def goal_met(result: dict[str, Any]) -> bool:
    if "faults" in result:
        # A fault run that injected nothing would prove nothing.
        injected = all(result["faults"][kind]["injected"] > 0 for kind in (DYNAMODB_THROTTLE, MANAGEMENT_API_500))
        return bool(result["lost_from_table"] == 0 and injected)
    return bool(result["lost"] == 0 and result["duplicated"] == 0 and result["http"]["errors"] == 0)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,} ms"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def _fault_lines(faults: dict[str, Any]) -> list[str]:
    throttles, posts = faults[DYNAMODB_THROTTLE], faults[MANAGEMENT_API_500]
    by_function = ", ".join(
        f"{source} {counts['injected']:,}"
        for source, counts in sorted(throttles["by_source"].items())
        if counts["injected"]
    )
    return [
        f"  DynamoDB     {throttles['injected']:,} of {throttles['attempts']:,} calls throttled "
        f"({_share(throttles['injected'], throttles['attempts'])}); {throttles['gave_up']:,} failed after "
        f"their last retry",
        *([f"               by function: {by_function}"] if by_function else []),
        f"  Mgmt API     {posts['injected']:,} of {posts['attempts']:,} posts answered 500 "
        f"({_share(posts['injected'], posts['attempts'])}); {posts['gave_up']:,} failed after their last retry",
    ]


def _per_connection_lines(result: dict[str, Any]) -> list[str]:
    """One line per user whose connections missed or repeated a message, a column per connection."""
    by_user: dict[str, list[dict[str, Any]]] = {}
    for connection in result["per_connection"]:
        by_user.setdefault(connection["user"], []).append(connection)
    lines, clean = [], 0
    for user, connections in by_user.items():
        if not any(c["delivered"] < c["expected"] or c["duplicated"] for c in connections):
            clean += 1
            continue
        delivered = " ".join(f"{c['delivered']:,}/{c['expected']:,}" for c in connections)
        missing = " ".join(f"{c['expected'] - c['delivered']:,}" for c in connections)
        duplicated = " ".join(f"{c['duplicated']:,}" for c in connections)
        lines.append(f"    {user:<16} delivered {delivered}   missing {missing}   duplicated {duplicated}")
    if clean:
        lines.append(f"    {clean} other user{'s' if clean != 1 else ''}: every connection got each message once")
    return lines


def report(result: dict[str, Any]) -> str:
    http = result["http"]
    statuses = ", ".join(
        f"{status}: {count:,}" for status, count in http.items() if status not in {"clients", "requests", "errors"}
    )
    faults = result.get("faults")
    title = "make load --faults" if faults else "make load"
    lines = [
        f"{title}: {result['events']:,} events, {result['users']} users x {result['connections_per_user']} "
        f"connections, {http['clients']} HTTP clients ({result['machine']['cpus']} CPUs)",
    ]
    if faults is not None:
        lines += _fault_lines(faults)
    lines += [
        f"  produced     {result['produced']:,}",
        f"  stored       {result['stored']:,}",
    ]
    if faults is not None:
        lines += [
            f"  lost         {result['lost_from_table']:,} from the table ({result['dead_letters']:,} dead letters)",
            f"  delivered    {result['delivered']:,} of {result['expected_deliveries']:,} WebSocket messages",
            f"  missing      {result['lost']:,}",
            f"  duplicated   {result['duplicated']:,}",
            "  per connection:",
            *_per_connection_lines(result),
        ]
    else:
        lines += [
            f"  delivered    {result['delivered']:,} of {result['expected_deliveries']:,} WebSocket messages",
            f"  lost         {result['lost']:,}",
            f"  duplicated   {result['duplicated']:,}",
        ]
    lines += [
        f"  HTTP         {http['requests']:,} requests, {http['errors']:,} errors ({statuses})",
        f"  latency      p50 {_ms(result['p50_ms'])}, p99 {_ms(result['p99_ms'])}, max {_ms(result['max_ms'])}",
    ]
    goal = "0 lost from the table, faults of both kinds injected" if faults else "0 lost, 0 duplicated, 0 HTTP errors"
    lines.append(f"  goal ({goal}): {'met' if goal_met(result) else 'not met'}")
    return "\n".join(lines)


def main(events: int | None = None, faults: bool = False) -> int:
    shape = LOAD if events is None else dataclasses.replace(LOAD, events=events)
    result = run(shape, FAULTS if faults else None)
    results_file = RESULTS_DIR / ("faults.json" if faults else "results.json")
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(result, indent=2))
    print(report(result))
    print(f"\nJSON: {results_file}")
    return 0 if goal_met(result) else 1
