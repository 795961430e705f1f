"""Capacity units per operation, as DynamoDB Local reports them with ReturnConsumedCapacity=INDEXES.

Units are exact, so the figures are asserted exactly: a change that makes an item larger or
adds a request shows up here. `make bench` prints the same measurement (inbox_dev.capacity).
"""

from __future__ import annotations

from typing import Any

import pytest
from inbox_dev.capacity import BUDGETS, SIZES, Consumed, measure_sizes

# (read units, write units, requests) for an inbox with 10 and with 10,000 unread notifications.
# DynamoDB Local reports nothing for a failed conditional write; DynamoDB bills 1 unit for it.
EXPECTED = {
    "store": {10: (0, 2, 1), 10_000: (0, 2, 1)},
    "store_duplicate": {10: (0, 0, 1), 10_000: (0, 0, 1)},
    "flood_counter": {10: (0, 1, 1), 10_000: (0, 1, 1)},
    "flood_total": {10: (0.5, 0, 1), 10_000: (0.5, 0, 1)},
    "retract": {10: (0, 2, 1), 10_000: (0, 2, 1)},
    "list_20": {10: (0.5, 0, 2), 10_000: (1.0, 0, 2)},
    "list_unread_20": {10: (1.0, 0, 2), 10_000: (1.5, 0, 2)},
    "unread_count": {10: (1.0, 0, 2), 10_000: (4.0, 0, 2)},
    "mark_one_read": {10: (0, 3, 1), 10_000: (0, 3, 1)},
    "mark_all_read": {10: (0, 2, 1), 10_000: (0, 2, 1)},
    "delete": {10: (0, 2, 1), 10_000: (0, 2, 1)},
}


@pytest.fixture(scope="module")
def figures(local_aws: Any) -> dict[int, dict[str, Consumed]]:
    """Every operation measured once for the owner of each inbox size (filled once for the module)."""
    from inbox import wiring

    return measure_sizes(wiring.store(), "test")


@pytest.mark.parametrize("operation", list(EXPECTED))
def test_each_operation_consumes_exactly_its_measured_units(
    figures: dict[int, dict[str, Consumed]], operation: str
) -> None:
    # Given inboxes with 10 and with 10,000 unread notifications (the fixture)
    # When the operation runs for each owner
    measured = {size: figures[size][operation] for size in SIZES}

    # Then it consumes exactly the units and requests on record
    assert {size: (c.read_units, c.write_units, c.requests) for size, c in measured.items()} == EXPECTED[operation]


def test_every_budget_holds_but_the_crowded_unread_count(figures: dict[int, dict[str, Consumed]]) -> None:
    # Given both inbox sizes measured
    # When each operation is held to its budget
    over = sorted(
        (operation, size)
        for operation, budget in BUDGETS.items()
        for size in SIZES
        if not budget.holds(figures[size][operation])
    )

    # Then only the count of a crowded inbox is over: it reads at most 100 index entries, so it
    # is bounded (4 units at any size past 100 unread) but above 2 (README, "Measured budgets").
    assert over == [("unread_count", 10_000)]
