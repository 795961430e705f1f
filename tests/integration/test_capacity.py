"""Capacity units per operation, as DynamoDB Local reports them with ReturnConsumedCapacity=INDEXES.

Units are exact, so the figures are asserted exactly: a change that makes an item larger or
adds a request shows up here. `make bench` prints the same measurement (inbox_dev.capacity).
"""

from __future__ import annotations

from typing import Any

import pytest
from inbox_dev.capacity import BUDGETS, SIZES, Consumed, measure_sizes

# (read units, write units, requests) for an inbox with 10 and with 10,000 unread entries (groups of
# three actors, every tenth a mention). DynamoDB Local reports nothing for a failed conditional
# write (a redelivery); DynamoDB bills 1 unit for it.
EXPECTED = {
    "list_20": {10: (0.5, 0, 2), 10_000: (1.5, 0, 2)},
    "list_unread_20": {10: (1, 0, 2), 10_000: (2, 0, 2)},
    "list_archived_20": {10: (1, 0, 2), 10_000: (1.5, 0, 2)},
    "list_mentions_20": {10: (1, 0, 2), 10_000: (1.5, 0, 2)},
    # The inbox's first page with the counts: the page's own units while fewer are unread than a page.
    "open_inbox": {10: (0.5, 0, 2), 10_000: (6, 0, 3)},
    "open_mentions": {10: (1.5, 0, 3), 10_000: (7.5, 0, 4)},
    # POST /notifications/open: the opening read, and seen-all's write (a separate seen-all reads 0.5 more)
    "open_marking_seen": {10: (0.5, 2, 3), 10_000: (6, 2, 4)},
    "unread_count": {10: (0.5, 0, 1), 10_000: (6, 0, 2)},
    "counts": {10: (0.5, 0, 1), 10_000: (6, 0, 2)},
    "seen_all": {10: (0.5, 2, 2), 10_000: (0.5, 2, 2)},
    "seen_all_nothing_unseen": {10: (0.5, 0, 1), 10_000: (0.5, 0, 1)},
    "group_start": {10: (0, 3, 2), 10_000: (0, 3, 2)},
    "group_join": {10: (0, 4, 2), 10_000: (0, 4, 2)},
    "member_redelivered": {10: (0, 0, 1), 10_000: (0, 0, 1)},
    "store_mention": {10: (0, 3, 1), 10_000: (0, 3, 1)},
    "store_duplicate": {10: (0, 0, 1), 10_000: (0, 0, 1)},
    "unseen_count_after_open": {10: (0.5, 0, 1), 10_000: (1, 0, 1)},
    "flood_window": {10: (0.5, 0, 1), 10_000: (0.5, 0, 1)},
    "flood_window_flooded": {10: (0.5, 0, 1), 10_000: (11, 0, 2)},
    "retract": {10: (1, 3, 3), 10_000: (1, 3, 3)},
    "mark_one_read": {10: (0, 3, 1), 10_000: (0, 3, 1)},
    "mark_read_mention": {10: (0, 4, 1), 10_000: (0, 4, 1)},
    "mark_unread": {10: (0.5, 3, 2), 10_000: (0.5, 3, 2)},
    "archive": {10: (1, 3, 2), 10_000: (1, 3, 2)},
    "unarchive": {10: (1, 3, 2), 10_000: (1, 3, 2)},
    "delete": {10: (0, 2, 1), 10_000: (0, 2, 1)},
    "mark_all_read": {10: (0, 2, 1), 10_000: (0, 2, 1)},
    "clear_all": {10: (0, 2, 1), 10_000: (0, 2, 1)},
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


def test_every_budget_holds_at_both_sizes(figures: dict[int, dict[str, Consumed]]) -> None:
    # Given both inbox sizes measured
    # When each operation is held to its budget (docs/data-model.md)
    over = sorted(
        (operation, size)
        for operation, budget in BUDGETS.items()
        for size in SIZES
        if not budget.holds(figures[size][operation])
    )

    # Then none is over: the counts read at most 100 entries, whatever the inbox holds
    assert over == []
    assert set(BUDGETS) == set(EXPECTED)
