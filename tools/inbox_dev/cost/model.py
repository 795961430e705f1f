"""The bill: what the users do, times the measured units and durations, times list prices.

A pure function of its inputs (Usage, Assumptions, Measured, Deployment, prices), so that a test
can double one input and see which lines follow. Capacity units are the exact figures of
inbox_dev.capacity (the budgets tests/integration/test_capacity.py asserts); what nobody measured
is a named Assumption, printed with the bill.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from inbox.models import NotificationType

from inbox_dev.cost.memory import billed_ms

PRICES_FILE = Path(__file__).parent.parent / "prices.json"
DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 1024**3
# Grouped types share one entry per group; mentions and replies are also in the sparse tabs index.
GROUPED = frozenset({NotificationType.LIKE, NotificationType.REPOST, NotificationType.FOLLOW})
TABBED = frozenset({NotificationType.MENTION, NotificationType.REPLY})
# Reads the capacity measurement has no operation for: a GetItem of one small item, eventually
# consistent (preferences, a group's start, a user's devices or connections): half a unit.
SMALL_GET_UNITS = 0.5
# DynamoDB bills a failed conditional write (a redelivery) 1 unit; DynamoDB Local reports none.
FAILED_CONDITIONAL_WRITE_UNITS = 1.0
# A push recorded on a grown group (SET lp): the entry and its copy in the inbox index (ALL projected).
RECORD_PUSH_UNITS = 2.0
# Flood control writes nothing, and reads a recipient's window ("flood_window") only once a
# container has stored half a limit for them in the window: in the scenario's usual case, never.


@dataclass(frozen=True)
class Usage:
    """What the users do; the defaults are the social API's scenario (its own cost estimate's)."""

    users: int = 1_000_000
    notifications_per_user_per_day: float = 10.0
    # The estimate's 50 M reads a day: HTTP reads of the inbox (lists and counts).
    inbox_reads_per_user_per_day: float = 50.0
    unread_count_polls_per_user_per_day: float = 0.0


def _seed_type_shares() -> dict[NotificationType, float]:
    return {
        NotificationType.LIKE: 0.6,
        NotificationType.REPOST: 0.1,
        NotificationType.FOLLOW: 0.1,
        NotificationType.REPLY: 0.1,
        NotificationType.MENTION: 0.1,
    }


@dataclass(frozen=True)
class Assumptions:
    """Behaviour nobody measured here: each a named guess, printed with the bill (docs/performance.md)."""

    # The estimate names the five types but not their mix: likes dominate a social feed.
    type_shares: Mapping[NotificationType, float] = field(default_factory=_seed_type_shares)
    # Of likes, reposts and follows, the share that joins a group already open (GroupWindowSeconds,
    # 24 h) instead of starting one: no production figure exists; at 6 likes a user a day spread over
    # about 3 posts liked within a day, half join.
    group_join_share: float = 0.5
    # An inbox open reads the list and the counts (the estimate's 50 reads a day, made for an API
    # that answered them separately, are 25 opens).
    reads_per_inbox_open: float = 2.0
    # HTTP requests an open takes: one, POST /notifications/open (the first page, the counts, and
    # seen-all's write when something was unseen).
    http_requests_per_open: float = 1.0
    redelivered_share: float = 0.01  # records Kafka delivers twice
    mark_all_read_per_user_per_day: float = 1.0
    mark_one_read_share: float = 0.2  # of entries, marked read one by one
    archive_share: float = 0.02  # of entries, archived
    records_per_ingest_invocation: int = 50
    records_per_fanout_invocation: int = 10
    sessions_per_user_per_day: float = 2.0  # WebSocket connects (each: authorizer, $connect, $disconnect)
    online_minutes_per_user_per_day: float = 30.0
    online_share_at_delivery: float = 0.3  # share of changes that find the user connected
    connections_per_online_user: float = 1.5
    push_share: float = 0.6  # share of new entries whose recipient has a phone with push on
    # Of joins, the share pushed again: once per group per PushGroupIntervalSeconds (15 min).
    grown_group_push_share: float = 0.3
    ping_interval_minutes: float = 9.0  # clients ping before API Gateway's 10-minute idle timeout
    # PROVISIONED: consumed over provisioned across the month. Auto scaling tracks 70 % (the
    # template's CapacityTargetUtilization) but follows the day's curve late and scales down at most
    # a few times a day.
    provisioned_utilisation: float = 0.5
    peak_to_average: float = 2.0  # the busiest hour against the month's average (for MaxWriteCapacity)
    # With SnapStart, an execution environment is restored from the snapshot instead of starting; Lambda
    # replaces environments after some hours, so each of the busiest hour's lives about this long.
    environment_lifetime_hours: float = 2.0


class Billing(StrEnum):
    ON_DEMAND = "on-demand"
    PROVISIONED = "provisioned"


def uniform_days(days: int) -> dict[str, int]:
    return {kind.value: days for kind in NotificationType}


@dataclass(frozen=True)
class Deployment:
    """The template's parameters that move the bill."""

    billing: Billing = Billing.ON_DEMAND
    replicas: int = 0  # ReplicaRegions: other regions with a replica of the table
    ttl_days: Mapping[str, int] = field(default_factory=lambda: uniform_days(90))  # per NotificationType value
    memory_mb: Mapping[str, int] = field(default_factory=dict)  # per function; missing: the template's
    point_in_time_recovery: bool = True
    snap_start: bool = False  # SnapStart=PublishedVersions: one cached snapshot per function (its live version)


@dataclass(frozen=True)
class Measured:
    capacity: Mapping[str, Any]  # inbox_dev.capacity.measure()
    durations: Mapping[str, Any]  # inbox_dev.bench.durations.measure(): ms and cpu_ms per function
    item_bytes: Mapping[str, int]  # DynamoDB's size of a "group" entry, a "single" entry and a "member"
    memory_mb: Mapping[str, int]  # the template's MemorySize per function


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
    deployment: Deployment
    lines: list[Line] = field(default_factory=list)
    # Figures beside the bill: volumes, capacity to provision, per-notification cost.
    facts: dict[str, float] = field(default_factory=dict)

    def add(self, service: str, item: str, quantity: float, unit: str, monthly_usd: float) -> None:
        self.lines.append(Line(service, item, quantity, unit, round(monthly_usd, 2)))

    def total(self, service: str | None = None) -> float:
        return round(sum(line.monthly_usd for line in self.lines if service in (None, line.service)), 2)


def prices() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PRICES_FILE.read_text())
    return loaded


def per_million(quantity: float, service_prices: Mapping[str, Any], name: str) -> float:
    return quantity / 1e6 * float(service_prices[f"{name}_per_million"])


def units(capacity: Mapping[str, Any], operation: str, kind: str, inbox: str = "10000") -> float:
    """Units of an operation for the owner of an inbox of ``inbox`` entries (10 or 10000)."""
    return float(capacity[operation][inbox][kind])


@dataclass(frozen=True)
class Volumes:
    """A month's operations, from the usage and the assumptions."""

    notifications: float
    starts: float  # grouped actions that start a group (a new entry)
    joins: float  # grouped actions that join one
    singles: float  # mentions and replies: an entry each
    tabbed_share: float  # of entries, in the tabs index too
    opens: float
    inbox_reads: float  # HTTP requests opening the inbox (the first page with the counts)
    seen_all_writing: float  # opens that find something unseen, and write the seen-all watermark
    mark_all: float
    mark_one: float
    archives: float
    polls: float
    sessions: float
    minutes: float
    pings: float
    recorded_pushes: float
    pushes: float

    @property
    def entries(self) -> float:
        return self.starts + self.singles

    @property
    def growing_changes(self) -> float:
        """Changes that may reach phones: entries written or grown."""
        return self.entries + self.joins

    @property
    def quiet_changes(self) -> float:
        """Changes for open connections only: entries marked or archived, and watermarks."""
        return self.mark_one + self.archives + self.seen_all_writing + self.mark_all

    @property
    def stream_records(self) -> float:
        """What the fan-out reads from the stream: every change, and pushes recorded (no change)."""
        return self.growing_changes + self.quiet_changes + self.recorded_pushes

    @property
    def http_requests(self) -> float:
        return self.inbox_reads + self.mark_all + self.mark_one + self.archives + self.polls


def volumes(usage: Usage, assume: Assumptions) -> Volumes:
    user_days = usage.users * DAYS_PER_MONTH
    notifications = user_days * usage.notifications_per_user_per_day
    total_share = sum(assume.type_shares.values())
    grouped_share = sum(share for kind, share in assume.type_shares.items() if kind in GROUPED) / total_share
    grouped = notifications * grouped_share
    joins = grouped * assume.group_join_share
    starts, singles = grouped - joins, notifications - grouped
    opens = user_days * usage.inbox_reads_per_user_per_day / assume.reads_per_inbox_open
    entries = starts + singles
    # An open writes seen-all only when something arrived since the last one: at most once per new entry.
    seen_all_writing = min(opens, entries)
    minutes = user_days * assume.online_minutes_per_user_per_day
    recorded = joins * assume.push_share * assume.grown_group_push_share
    return Volumes(
        notifications=notifications,
        starts=starts,
        joins=joins,
        singles=singles,
        tabbed_share=singles / entries if entries else 0.0,
        opens=opens,
        inbox_reads=opens * assume.http_requests_per_open,
        seen_all_writing=seen_all_writing,
        mark_all=user_days * assume.mark_all_read_per_user_per_day,
        mark_one=entries * assume.mark_one_read_share,
        archives=entries * assume.archive_share,
        polls=user_days * usage.unread_count_polls_per_user_per_day,
        sessions=user_days * assume.sessions_per_user_per_day,
        minutes=minutes,
        pings=minutes / assume.ping_interval_minutes,
        recorded_pushes=recorded,
        pushes=entries * assume.push_share + recorded,
    )


def write_units(v: Volumes, capacity: Mapping[str, Any], assume: Assumptions) -> dict[str, float]:
    """Write units a month by cause, in the region that takes the write (table and indexes)."""
    mark_one = v.mark_one * (
        (1 - v.tabbed_share) * units(capacity, "mark_one_read", "write_units")
        + v.tabbed_share * units(capacity, "mark_read_mention", "write_units")
    )
    return {
        "entries": v.starts * units(capacity, "group_start", "write_units")
        + v.joins * units(capacity, "group_join", "write_units")
        + v.singles * units(capacity, "store_mention", "write_units"),
        "redeliveries": v.notifications * assume.redelivered_share * FAILED_CONDITIONAL_WRITE_UNITS,
        "pushes recorded": v.recorded_pushes * RECORD_PUSH_UNITS,
        "seen, read, archived": v.seen_all_writing * units(capacity, "open_marking_seen", "write_units")
        + v.mark_all * units(capacity, "mark_all_read", "write_units")
        + mark_one
        + v.archives * units(capacity, "archive", "write_units"),
        "connections": v.sessions * 2,  # a connection's put and delete, 1 unit each
    }


def read_units(v: Volumes, capacity: Mapping[str, Any], assume: Assumptions) -> dict[str, float]:
    """Read units a month by cause."""
    grouped = v.starts + v.joins
    # A full first page (the 10,000-entry figure). Its read of the unread partition from the top
    # serves the counts and seen-all's check too while fewer entries are unread than a page holds
    # ("open_inbox" at 10 entries costs the page's own units): one who marks all read daily and opens
    # the inbox 25 times a day has about a day's entries unread.
    return {
        "inbox opens (list with counts, seen-all)": v.opens * units(capacity, "list_20", "read_units")
        + v.polls * units(capacity, "unread_count", "read_units", "10")
        + v.archives * units(capacity, "archive", "read_units"),
        # Per recipient per batch: preferences; per group key: its start (both batch reads, billed per item).
        "ingest (preferences, groups)": v.notifications * SMALL_GET_UNITS + grouped * SMALL_GET_UNITS,
        # Once per user per fan-out batch: connections (and devices, when a change grew) in one query;
        # preferences for a growing change, for a quiet one only when connected; live counts when
        # connected. A push recorded is no change: nothing is read for it.
        "fan-out (audience, live counts)": v.growing_changes * 2 * SMALL_GET_UNITS
        + v.quiet_changes * (1 + assume.online_share_at_delivery) * SMALL_GET_UNITS
        + (v.growing_changes + v.quiet_changes)
        * assume.online_share_at_delivery
        * units(capacity, "counts", "read_units", "10"),
    }


def stored_gb(
    usage: Usage, assume: Assumptions, item_bytes: Mapping[str, int], deploy: Deployment
) -> tuple[float, float]:
    """(everything stored, the table alone) in GB, in one region, at steady state: kept days x daily additions."""
    overhead = prices()["dynamodb"]["item_overhead_bytes"]
    daily = usage.users * usage.notifications_per_user_per_day
    total_share = sum(assume.type_shares.values())
    table = indexes = 0.0
    for kind, share in assume.type_shares.items():
        actions = daily * share / total_share * deploy.ttl_days[kind]
        if kind in GROUPED:
            entries = actions * (1 - assume.group_join_share)
            entry_bytes = entries * (item_bytes["group"] + overhead)
            table += entry_bytes + actions * (item_bytes["member"] + overhead)
            indexes += entry_bytes  # the inbox index projects every attribute
        else:
            entry_bytes = actions * (item_bytes["single"] + overhead)
            table += entry_bytes
            indexes += 2 * entry_bytes  # the inbox index and the tabs index
    return (table + indexes) / GB, table / GB


def _dynamodb(bill: Bill, v: Volumes, measured: Measured, assume: Assumptions, price: Mapping[str, Any]) -> None:
    deploy, dynamodb = bill.deployment, price["dynamodb"]
    regions = 1 + deploy.replicas
    writes = write_units(v, measured.capacity, assume)
    reads = read_units(v, measured.capacity, assume)
    written, read = sum(writes.values()), sum(reads.values())
    # Every region applies every write: the table's as replicated writes, its indexes' as writes.
    # TTL deletes are free where they happen and replicated writes in the other regions.
    expiring = v.entries * (2 + v.tabbed_share) + v.starts + v.joins
    region_writes = written * regions + expiring * deploy.replicas
    bill.facts["write_units_per_notification"] = round(written / v.notifications, 3)
    bill.facts["read_units_per_notification"] = round(read / v.notifications, 3)
    for name, quantity in writes.items():
        bill.facts[f"write_units.{name}"] = round(quantity)
    for name, quantity in reads.items():
        bill.facts[f"read_units.{name}"] = round(quantity)
    if deploy.billing is Billing.ON_DEMAND:
        write_usd = per_million(region_writes, dynamodb, "write_request_unit")
        bill.add("DynamoDB", "write request units (every region)", region_writes, "WRU", write_usd)
        bill.add("DynamoDB", "read request units", read, "RRU", per_million(read, dynamodb, "read_request_unit"))
    else:
        # A capacity unit serves 3,600 units an hour; auto scaling keeps some of it idle.
        wcu_hours = region_writes / 3600 / assume.provisioned_utilisation
        rcu_hours = read / 3600 / assume.provisioned_utilisation
        bill.add(
            "DynamoDB",
            "write capacity, auto scaled (every region)",
            wcu_hours,
            "WCU-hours",
            wcu_hours * dynamodb["write_capacity_unit_hour"],
        )
        bill.add(
            "DynamoDB",
            "read capacity, auto scaled",
            rcu_hours,
            "RCU-hours",
            rcu_hours * dynamodb["read_capacity_unit_hour"],
        )
    peak = assume.peak_to_average / 0.7  # the template's 70 % target at the busiest hour
    bill.facts["peak_write_capacity_units"] = round(written / SECONDS_PER_MONTH * peak)
    bill.facts["peak_read_capacity_units"] = round(read / SECONDS_PER_MONTH * peak)
    everything, table = stored_gb(bill.usage, assume, measured.item_bytes, deploy)
    billable = max(0.0, everything - dynamodb["storage_free_gb"]) * regions
    bill.add(
        "DynamoDB",
        "storage (table and indexes, every region)",
        everything * regions,
        "GB-month",
        billable * dynamodb["storage_gb_month"],
    )
    if deploy.point_in_time_recovery:
        bill.add(
            "DynamoDB",
            "point-in-time recovery (every region)",
            table * regions,
            "GB-month",
            table * regions * dynamodb["point_in_time_recovery_gb_month"],
        )
    if deploy.replicas:
        # What the table's writes ship to each other region: entries written or grown, and members.
        sizes = measured.item_bytes
        shipped = (
            ((v.entries + v.joins) * sizes["group"] + (v.starts + v.joins) * sizes["member"]) / GB * deploy.replicas
        )
        bill.add(
            "DynamoDB",
            "replication traffic between regions",
            shipped,
            "GB",
            shipped * dynamodb["cross_region_replication_gb"],
        )
    bill.add(
        "DynamoDB", "stream reads by Lambda", v.stream_records / assume.records_per_fanout_invocation, "reads", 0.0
    )


def invocations(v: Volumes, assume: Assumptions) -> dict[str, float]:
    return {
        "IngestFunction": v.notifications / assume.records_per_ingest_invocation,
        "FanoutFunction": v.stream_records / assume.records_per_fanout_invocation,
        "ApiFunction": v.http_requests,
        "WsAuthorizerFunction": v.sessions,
        "WsConnectFunction": v.sessions,
        "WsDisconnectFunction": v.sessions,
        "WsMessageFunction": v.pings,
    }


def estimate(
    usage: Usage,
    measured: Measured,
    deploy: Deployment | None = None,
    assume: Assumptions | None = None,
) -> Bill:
    deploy, assume = deploy or Deployment(), assume or Assumptions()
    price, bill = prices(), Bill(usage, deploy)
    v = volumes(usage, assume)
    _dynamodb(bill, v, measured, assume, price)

    # Lambda: each function's measured duration at its memory size (CPU stretched, waiting not).
    lambdas = price["lambda"]
    for name, count in invocations(v, assume).items():
        memory = deploy.memory_mb.get(name, measured.memory_mb[name])
        ms = billed_ms(measured.durations[name], memory)
        gb_seconds = count * ms / 1000 * memory / 1024
        cost = per_million(count, lambdas, "requests") + gb_seconds * lambdas["arm64_gb_second"]
        bill.add("Lambda", f"{name} ({ms:.0f} ms at {memory} MB)", count, "invocations", cost)
        if deploy.snap_start:
            busiest = math.ceil(count * ms / 1000 / SECONDS_PER_MONTH * assume.peak_to_average)
            restores = busiest * HOURS_PER_MONTH / assume.environment_lifetime_hours
            cached = memory / 1024 * SECONDS_PER_MONTH * lambdas["snapstart_cache_gb_second"]
            restored = restores * memory / 1024 * lambdas["snapstart_restore_gb"]
            bill.add("Lambda", f"{name} SnapStart (cache, restores)", restores, "restores", cached + restored)

    # API Gateway: HTTP requests; WebSocket messages (32 KB increments; every message is smaller)
    # and connection minutes.
    gateway = price["api_gateway"]
    http = v.http_requests
    first_tier = min(http, gateway["http_requests_first_tier"])
    http_usd = per_million(first_tier, gateway, "http_requests") + per_million(
        http - first_tier, gateway, "http_requests_beyond_first_tier"
    )
    bill.add("API Gateway", "HTTP API requests", http, "requests", http_usd)
    live = (v.growing_changes + v.quiet_changes) * assume.online_share_at_delivery * assume.connections_per_online_user
    messages = live + 2 * v.pings  # a ping and its pong are a message each
    bill.add(
        "API Gateway", "WebSocket messages", messages, "messages", per_million(messages, gateway, "websocket_messages")
    )
    bill.add(
        "API Gateway",
        "WebSocket connection minutes",
        v.minutes,
        "minutes",
        per_million(v.minutes, gateway, "websocket_connection_minutes"),
    )
    bill.add("SNS", "mobile push", v.pushes, "publishes", per_million(v.pushes, price["sns"], "mobile_push"))
    bill.facts["notifications"] = v.notifications
    bill.facts["usd_per_1000_notifications"] = round(bill.total() / v.notifications * 1000, 6)
    return bill
