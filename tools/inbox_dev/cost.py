"""The monthly bill, from measured capacity units and handler durations and list prices.

`make cost` (`python -m inbox_dev cost`): DynamoDB on demand (request units, storage, point-in-time
recovery; stream reads by Lambda are free), Lambda (requests and GB-seconds at the template's
memory sizes) and API Gateway (HTTP requests, WebSocket messages and connection minutes), plus
SNS mobile push. Capacity units and durations come from the last `make bench` if there is one,
otherwise they are measured now against a private DynamoDB Local. Prices are in prices.json,
with the date they were read; what is assumed rather than measured is named in ASSUMPTIONS.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inbox_dev.template import functions

PRICES_FILE = Path(__file__).with_name("prices.json")
DAYS_PER_MONTH = 30
GB = 1024**3


@dataclass(frozen=True)
class Usage:
    """What the users do; the defaults are the social API's scenario (its own cost estimate's)."""

    users: int = 1_000_000
    notifications_per_user_per_day: float = 10.0
    inbox_reads_per_user_per_day: float = 50.0
    unread_count_polls_per_user_per_day: float = 0.0
    retention_days: int = 90
    item_bytes: int | None = None  # None: the size ingest stores, measured


# Behaviour nobody measured here; each is a flag-free, named guess, shown in the report.
ASSUMPTIONS = {
    "mark_all_read_per_user_per_day": 1.0,
    "mark_one_read_share": 0.2,  # share of notifications marked read one by one
    "records_per_ingest_invocation": 50,
    "records_per_fanout_invocation": 10,
    "sessions_per_user_per_day": 2.0,  # WebSocket connects (each: authorizer, $connect, $disconnect)
    "online_minutes_per_user_per_day": 30.0,
    "online_share_at_delivery": 0.3,  # share of notifications that find the user connected
    "connections_per_online_user": 1.5,
    "push_share": 0.6,  # share of notifications whose recipient has a phone with push on
    "ping_interval_minutes": 9.0,  # clients ping before API Gateway's 10-minute idle timeout
}


@dataclass
class Line:
    service: str
    item: str
    quantity: float
    unit: str
    monthly_usd: float


@dataclass
class Bill:
    usage: Usage
    lines: list[Line] = field(default_factory=list)

    def add(self, service: str, item: str, quantity: float, unit: str, monthly_usd: float) -> None:
        self.lines.append(Line(service, item, quantity, unit, round(monthly_usd, 2)))

    def total(self, service: str | None = None) -> float:
        return round(sum(line.monthly_usd for line in self.lines if service in (None, line.service)), 2)


def prices() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return loaded


def per_million(quantity: float, service_prices: dict[str, Any], name: str) -> float:
    return quantity / 1e6 * float(service_prices[f"{name}_per_million"])


def _units(capacity: dict[str, Any], operation: str, kind: str) -> float:
    """Units of an operation for a full inbox (the 10,000-unread figure: pages are full)."""
    return float(capacity[operation]["10000"][kind])


def estimate(usage: Usage, capacity: dict[str, Any], durations: dict[str, Any], item_bytes: int) -> Bill:
    price, bill = prices(), Bill(usage)
    dynamodb, lambdas, gateway = price["dynamodb"], price["lambda"], price["api_gateway"]
    month = usage.users * DAYS_PER_MONTH
    notifications = month * usage.notifications_per_user_per_day
    reads = month * usage.inbox_reads_per_user_per_day
    polls = month * usage.unread_count_polls_per_user_per_day
    mark_all = month * ASSUMPTIONS["mark_all_read_per_user_per_day"]
    mark_one = notifications * ASSUMPTIONS["mark_one_read_share"]
    sessions = month * ASSUMPTIONS["sessions_per_user_per_day"]
    minutes = month * ASSUMPTIONS["online_minutes_per_user_per_day"]
    pings = minutes / ASSUMPTIONS["ping_interval_minutes"]

    # DynamoDB: every write and read the app makes, at the measured units per operation.
    ingest_batches = notifications / ASSUMPTIONS["records_per_ingest_invocation"]
    fanout_batches = notifications / ASSUMPTIONS["records_per_fanout_invocation"]
    write_units = (
        notifications * _units(capacity, "store", "write_units")
        + notifications * _units(capacity, "flood_counter", "write_units")
        + mark_one * _units(capacity, "mark_one_read", "write_units")
        + mark_all * _units(capacity, "mark_all_read", "write_units")
        + sessions * 2  # a connection's put and delete, 1 unit each
    )
    read_units = (
        reads * _units(capacity, "list_20", "read_units")
        + polls * _units(capacity, "unread_count", "read_units")
        # preferences and the flood total once per recipient per ingest batch; preferences,
        # connections and devices once per user per fan-out batch: at most once per notification.
        + notifications * (0.5 + _units(capacity, "flood_total", "read_units") + 3 * 0.5)
    )
    write_usd = per_million(write_units, dynamodb, "write_request_unit")
    bill.add("DynamoDB", "write request units", write_units, "WRU", write_usd)
    read_usd = per_million(read_units, dynamodb, "read_request_unit")
    bill.add("DynamoDB", "read request units", read_units, "RRU", read_usd)
    stored_items = usage.users * usage.notifications_per_user_per_day * usage.retention_days
    # Each notification is stored twice (table and index), each copy with DynamoDB's 100-byte overhead.
    stored_gb = stored_items * 2 * (item_bytes + dynamodb["item_overhead_bytes"]) / GB
    billable_gb = max(0.0, stored_gb - dynamodb["storage_free_gb"])
    bill.add("DynamoDB", "storage (table and index)", stored_gb, "GB-month", billable_gb * dynamodb["storage_gb_month"])
    table_gb = stored_items * (item_bytes + dynamodb["item_overhead_bytes"]) / GB
    pitr_usd = table_gb * dynamodb["point_in_time_recovery_gb_month"]
    bill.add("DynamoDB", "point-in-time recovery", table_gb, "GB-month", pitr_usd)
    bill.add("DynamoDB", "stream reads by Lambda", fanout_batches, "reads", 0.0)

    # Lambda: invocations and GB-seconds at the measured durations and the template's memory.
    specs = functions()
    invocations = {
        "IngestFunction": ingest_batches,
        "FanoutFunction": fanout_batches,
        "ApiFunction": reads + polls + mark_one + mark_all,
        "WsAuthorizerFunction": sessions,
        "WsConnectFunction": sessions,
        "WsDisconnectFunction": sessions,
        "WsMessageFunction": pings,
    }
    for name, count in invocations.items():
        seconds = durations[name]["ms"]["median"] / 1000
        gb_seconds = count * seconds * specs[name].memory_mb / 1024
        cost = per_million(count, lambdas, "requests") + gb_seconds * lambdas["arm64_gb_second"]
        label = f"{name} ({durations[name]['ms']['median']:.0f} ms, {specs[name].memory_mb} MB)"
        bill.add("Lambda", label, count, "invocations", cost)

    # API Gateway: HTTP requests; WebSocket messages (32 KB increments; notifications are far
    # smaller) and connection minutes.
    http_requests = reads + polls + mark_one + mark_all
    # HTTP APIs cost less beyond the first 300 million requests of a month.
    first_tier = min(http_requests, gateway["http_requests_first_tier"])
    http_usd = per_million(first_tier, gateway, "http_requests") + per_million(
        http_requests - first_tier, gateway, "http_requests_beyond_first_tier"
    )
    bill.add("API Gateway", "HTTP API requests", http_requests, "requests", http_usd)
    delivered = notifications * ASSUMPTIONS["online_share_at_delivery"] * ASSUMPTIONS["connections_per_online_user"]
    # Pings and their pongs are messages too.
    messages = delivered + 2 * pings
    messages_usd = per_million(messages, gateway, "websocket_messages")
    bill.add("API Gateway", "WebSocket messages", messages, "messages", messages_usd)
    minutes_usd = per_million(minutes, gateway, "websocket_connection_minutes")
    bill.add("API Gateway", "WebSocket connection minutes", minutes, "minutes", minutes_usd)
    pushes = notifications * ASSUMPTIONS["push_share"]
    bill.add("SNS", "mobile push", pushes, "publishes", per_million(pushes, price["sns"], "mobile_push"))
    return bill


def entry_item_bytes() -> int:
    """DynamoDB's size of the typical stored notification (names plus values), as ingest writes it."""
    from inbox.store.items import entry_item

    from inbox_dev.capacity import like

    liked = like("user-0123456789", 1)
    item = entry_item(liked, liked.notification_id, now_ms=1_795_000_000_000, ttl_seconds=90 * 86_400)
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        size += len(value.encode()) if isinstance(value, str) else math.ceil(len(str(value)) / 2) + 1
    return size


def measured_inputs(results_file: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Capacity units and handler durations: from the last bench run, else measured now."""
    if results_file.exists():
        results = json.loads(results_file.read_text())
        complete = set(functions()) <= set(results.get("durations", {})) and "capacity" in results
        if complete:
            return results["capacity"], results["durations"], f"{results_file} ({results['date']})"
    from inbox_dev import capacity
    from inbox_dev.bench import durations
    from inbox_dev.bench.inprocess import in_process_aws

    with in_process_aws() as aws:
        return capacity.measure("cost"), durations.measure(aws), "measured now (no `make bench` results)"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _quantity(value: float) -> str:
    for divisor, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= divisor:
            return f"{value / divisor:,.1f}{suffix}"
    return f"{value:,.1f}"


def report(bill: Bill, item_bytes: int, source: str) -> str:
    price, usage = prices(), bill.usage
    lines = [
        f"Monthly cost, {price['region']} list prices read {price['read_on']} ({PRICES_FILE.name})",
        f"  {usage.users:,} users, {usage.notifications_per_user_per_day:g} notifications and "
        f"{usage.inbox_reads_per_user_per_day:g} inbox reads per user per day, "
        f"{usage.unread_count_polls_per_user_per_day:g} unread-count polls, {usage.retention_days}-day retention, "
        f"{item_bytes}-byte items",
        f"  capacity units and durations: {source}",
        "",
    ]
    width = max(len(f"{line.service}: {line.item}") for line in bill.lines)
    for line in bill.lines:
        label = f"{line.service}: {line.item}"
        amount = f"{_quantity(line.quantity):>9} {line.unit:<11}"
        lines.append(f"  {label:<{width}}  {amount} {_money(line.monthly_usd):>12}")
    lines.append("")
    for service in dict.fromkeys(line.service for line in bill.lines):
        lines.append(f"  {service:<{width}}  {'':>21} {_money(bill.total(service)):>12}")
    lines.append(f"  {'Total':<{width}}  {'':>21} {_money(bill.total()):>12}")
    return "\n".join(lines)


def seed_comparison(bill: Bill) -> str:
    """The social API's own estimate next to this one, a line per difference."""

    def line(service: str, item: str) -> Line:
        return next(entry for entry in bill.lines if entry.service == service and entry.item.startswith(item))

    writes, reads = line("DynamoDB", "write"), line("DynamoDB", "read")
    storage = line("DynamoDB", "storage")
    others = bill.total() - writes.monthly_usd - reads.monthly_usd - storage.monthly_usd
    dynamodb = prices()["dynamodb"]
    write_price, read_price = dynamodb["write_request_unit_per_million"], dynamodb["read_request_unit_per_million"]
    rows = [
        (
            "Writes",
            375.00,
            writes.monthly_usd,
            f"seed: 300M writes x 1 unit x $1.25/M (the price before Nov 2024); here {_quantity(writes.quantity)} "
            f"units at ${write_price}/M: 2 per notification (table + index) and 1 for its flood counter, plus "
            "marking read and WebSocket connection records",
        ),
        (
            "Reads",
            375.00,
            reads.monthly_usd,
            f"seed: 1.5B reads x 1 unit x $0.25/M; here a page of 20 costs 1 unit at ${read_price}/M, plus the "
            "pipeline's own reads (preferences, flood totals, connections, devices): "
            f"{_quantity(reads.quantity)} units",
        ),
        (
            "Storage",
            12.50,
            storage.monthly_usd,
            f"seed: ~50 GB; 900M notifications kept 90 days take {storage.quantity:,.0f} GB: each is stored in the "
            "table and its index, with 100 bytes of DynamoDB overhead per copy (first 25 GB free)",
        ),
        (
            "Not in the seed",
            0.0,
            others,
            "point-in-time recovery, Lambda, API Gateway (HTTP, WebSocket messages and minutes), SNS push",
        ),
        ("Total", 762.50, bill.total(), ""),
    ]
    out = ["The social API's own estimate next to this one (1M users, 10 a day, 50M reads a day, 90 days)", ""]
    for name, seed, here, why in rows:
        out.append(f"  {name:<16} seed {_money(seed):>10}   here {_money(here):>10}   {why}")
    return "\n".join(out)


def main(usage: Usage, results_file: Path) -> int:
    capacity, durations, source = measured_inputs(results_file)
    item_bytes = usage.item_bytes or entry_item_bytes()
    bill = estimate(usage, capacity, durations, item_bytes)
    print(report(bill, item_bytes, source))
    if usage == Usage():
        print()
        print(seed_comparison(bill))
    return 0
