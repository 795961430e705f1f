"""`make cost`: the JSON it prints, and figures that follow from their inputs (not recorded results).

The capacity units are the ones tests/integration/test_capacity.py asserts exactly; durations are
made up here, so that each test can say what the bill must do with them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, cast

import pytest
from inbox.models import NotificationType
from inbox_dev.cli import parser
from inbox_dev.cost import chart, memory
from inbox_dev.cost.command import run
from inbox_dev.cost.inputs import PRICED_FUNCTIONS
from inbox_dev.cost.model import Assumptions, Bill, Billing, Deployment, Measured, Usage, estimate, uniform_days

from tests.integration.test_capacity import EXPECTED

UNITS = cast(dict[str, dict[int, tuple[float, float, int]]], EXPECTED)

FUNCTIONS = PRICED_FUNCTIONS


def capacity() -> dict[str, Any]:
    """The measured units in inbox_dev.capacity.measure()'s shape."""
    return {
        operation: {
            str(size): {"read_units": reads, "write_units": writes, "requests": requests}
            for size, (reads, writes, requests) in sizes.items()
        }
        for operation, sizes in UNITS.items()
    }


def durations(wall_ms: float = 40.0, cpu_ms: float = 10.0) -> dict[str, Any]:
    return {name: {"ms": {"median": wall_ms}, "cpu_ms": {"median": cpu_ms}} for name in FUNCTIONS}


MEASURED = Measured(
    capacity=capacity(),
    durations=durations(),
    item_bytes={"group": 430, "single": 370, "member": 80},
    memory_mb=dict.fromkeys(FUNCTIONS, 512),
)


def line(bill: Bill, service: str, item: str) -> Any:
    return next(entry for entry in bill.lines if entry.service == service and entry.item.startswith(item))


def test_cost_json_prints_each_service_its_total_and_the_price_per_1000(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the figures of a bench run
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"date": "2026-12-02", "capacity": capacity(), "durations": durations()}))

    # When `make cost ARGS=--json` runs
    arguments = parser().parse_args(["cost", "--json"])
    assert run(arguments, results) == 0
    printed = json.loads(capsys.readouterr().out)

    # Then it prints each service's dollars and their total, the price per 1,000 and the hosted prices
    services = ("dynamodb_usd", "lambda_usd", "api_gateway_usd", "sns_usd")
    assert {*services, "total_usd", "usd_per_1000_notifications", "levers", "hosted_inboxes"} <= set(printed)
    assert printed["total_usd"] == pytest.approx(sum(printed[key] for key in services), abs=0.01)
    assert printed["usd_per_1000_notifications"] == pytest.approx(printed["total_usd"] / 300_000, rel=1e-3)
    assert printed["inputs"] == "make bench of 2026-12-02"


def test_twice_the_notifications_write_twice_the_entries_and_store_twice_as_much() -> None:
    # Given the scenario, and the same with twice the notifications
    usage = Usage()
    once = estimate(usage, MEASURED)
    twice = estimate(dataclasses.replace(usage, notifications_per_user_per_day=20), MEASURED)

    # Then the entries' write units, the stored gigabytes and the ingest's invocations double
    assert twice.facts["write_units.entries"] == 2 * once.facts["write_units.entries"]
    assert line(twice, "DynamoDB", "storage").quantity == pytest.approx(2 * line(once, "DynamoDB", "storage").quantity)
    assert line(twice, "Lambda", "IngestFunction").quantity == 2 * line(once, "Lambda", "IngestFunction").quantity
    # And the connections' writes, which follow the users, do not move
    assert twice.facts["write_units.connections"] == once.facts["write_units.connections"]


def test_a_replica_region_takes_every_write_and_stores_a_copy() -> None:
    # Given one region, and the same with a replica in another
    alone = estimate(Usage(), MEASURED)
    replicated = estimate(Usage(), MEASURED, Deployment(replicas=1))

    # Then the replica applies every write again (and its TTL deletes), stores a copy, ships the traffic
    writes = line(alone, "DynamoDB", "write").quantity
    assert line(replicated, "DynamoDB", "write").quantity > 2 * writes
    assert line(replicated, "DynamoDB", "storage").quantity == pytest.approx(
        2 * line(alone, "DynamoDB", "storage").quantity
    )
    assert line(replicated, "DynamoDB", "replication traffic").monthly_usd > 0
    assert line(replicated, "DynamoDB", "read").quantity == line(alone, "DynamoDB", "read").quantity


def test_provisioned_capacity_pays_only_when_auto_scaling_keeps_it_busy_enough() -> None:
    # Given on-demand prices of $0.625 per million writes, and a WCU-hour of 3,600 writes at $0.00065
    on_demand = line(estimate(Usage(), MEASURED), "DynamoDB", "write").monthly_usd

    def provisioned(utilisation: float) -> float:
        assume = Assumptions(provisioned_utilisation=utilisation)
        bill = estimate(Usage(), MEASURED, Deployment(billing=Billing.PROVISIONED), assume)
        return float(line(bill, "DynamoDB", "write").monthly_usd)

    # Then provisioned writes cost more than on demand below about 29 % use, less above
    assert provisioned(0.25) > on_demand > provisioned(0.35)
    assert provisioned(0.5) == pytest.approx(provisioned(0.25) / 2, rel=1e-3)


def test_days_kept_per_type_set_the_storage() -> None:
    # Given every type kept 90 days, then 45, then only likes shorter
    def stored(days: dict[str, int]) -> float:
        return float(line(estimate(Usage(), MEASURED, Deployment(ttl_days=days)), "DynamoDB", "storage").quantity)

    full = stored(uniform_days(90))

    # Then half the days store half as much, and shorter likes alone store less
    assert stored(uniform_days(45)) == pytest.approx(full / 2)
    assert stored({**uniform_days(90), NotificationType.LIKE.value: 30}) < full


def test_memory_stretches_cpu_time_not_waiting() -> None:
    # Given a handler that only waits, and one that only computes (measured on a full core)
    waiting = {"ms": {"median": 100.0}, "cpu_ms": {"median": 0.0}}
    computing = {"ms": {"median": 100.0}, "cpu_ms": {"median": 100.0}}

    # Then memory does not change the first's duration, and halving it doubles the second's
    assert {memory.billed_ms(waiting, size) for size in memory.SIZES} == {100.0}
    assert memory.billed_ms(computing, 256) == pytest.approx(2 * memory.billed_ms(computing, 512), abs=1)
    # And the smallest size inside the budget is chosen, or a larger one that costs nearly as little
    assert memory.choose("ApiFunction", waiting) == 256
    assert memory.choose("ApiFunction", computing) == 1024  # 346 ms at 512 MB, 173 at 1,024: over; the largest
    mostly_computing = {"ms": {"median": 12.0}, "cpu_ms": {"median": 10.0}}  # 72 ms at 256 MB, 37 at 512
    assert memory.choose("ApiFunction", mostly_computing) == 512


def test_the_bill_is_drawn_beside_the_seeds_estimate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a bill as `make cost ARGS=--json` prints it
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"date": "2026-12-02", "capacity": capacity(), "durations": durations()}))
    run(parser().parse_args(["cost", "--json"]), results)
    report = json.loads(capsys.readouterr().out)

    # When it is drawn
    png = tmp_path / "bill.png"
    chart.draw(report, png)

    # Then the file is a PNG
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_snapstart_bills_a_cached_snapshot_per_function_and_its_restores() -> None:
    # Given the same deployment without and with SnapStart
    without = estimate(Usage(), MEASURED)
    with_snapshots = estimate(Usage(), MEASURED, Deployment(snap_start=True))

    # Then each function gains a line of its own, and nothing else moves
    snapshots = [entry for entry in with_snapshots.lines if "SnapStart" in entry.item]
    assert len(snapshots) == len(FUNCTIONS)
    assert all(entry.monthly_usd > 0 for entry in snapshots)
    assert with_snapshots.total() == pytest.approx(without.total() + sum(entry.monthly_usd for entry in snapshots))
