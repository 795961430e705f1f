"""Capacity budgets, as DynamoDB Local reports them with ReturnConsumedCapacity=INDEXES (exact figures)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from inbox.models import Actor, NotificationEvent, NotificationType, Resource


def event(recipient: str, index: int) -> NotificationEvent:
    return NotificationEvent(
        type=NotificationType.LIKE,
        recipient_id=recipient,
        actor=Actor(id=f"actor-{index}", username=f"Actor {index}", avatar=f"https://cdn.example.com/a/{index}.png"),
        resource=Resource(type="post", id=f"post-{index:06d}", excerpt="Shipping the inbox today, finally!"),
        occurred_at=datetime.now(UTC),
    )


def fill(repository: Any, user: str, count: int) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda index: repository.store(event(user, index)), range(count)))
    repository.meter.reset()


def measure(repository: Any, operation: Any) -> tuple[float, float, int]:
    repository.meter.reset()
    operation()
    return repository.meter.read_units, repository.meter.write_units, repository.meter.requests


def test_storing_costs_two_write_units_and_a_duplicate_at_most_one(repository: Any, user: str) -> None:
    _, written, _ = measure(repository, lambda: repository.store(event(user, 1)))
    _, duplicate, _ = measure(repository, lambda: repository.store(event(user, 1)))
    assert written == 2.0
    assert duplicate <= 1.0


@pytest.fixture(scope="module")
def crowded_inbox(local_aws: Any) -> str:
    """A user with 10,000 unread notifications (filled once for the module)."""
    from inbox import wiring

    fill(wiring.repository(), "crowded-user", 10_000)
    return "crowded-user"


@pytest.fixture(params=[10, 10_000], ids=["10-unread", "10000-unread"])
def sized_inbox(request: Any, repository: Any, user: str, crowded_inbox: str) -> tuple[str, int]:
    """The owner of an inbox with 10 or 10,000 unread notifications, and that size."""
    size: int = request.param
    if size == 10_000:
        return crowded_inbox, size
    fill(repository, user, size)
    return user, size


def test_read_budgets_hold_for_small_and_crowded_inboxes(repository: Any, sized_inbox: tuple[str, int]) -> None:
    owner, size = sized_inbox

    list_read, _, list_requests = measure(repository, lambda: repository.list_notifications(owner, limit=20))
    count_read, _, count_requests = measure(repository, lambda: repository.unread_count(owner))

    assert list_read <= 2.0
    assert list_requests <= 2
    # The count reads at most 100 unread items whatever the inbox holds: its cost is bounded,
    # and below the 2-unit budget only while fewer than about 45 are unread (see README).
    assert count_requests == 2
    assert count_read <= (2.0 if size == 10 else 5.0)


def test_write_budgets_hold_for_small_and_crowded_inboxes(repository: Any, sized_inbox: tuple[str, int]) -> None:
    owner, _ = sized_inbox
    newest = repository.list_notifications(owner, limit=2).items

    _, mark_one, _ = measure(repository, lambda: repository.mark_read(owner, newest[0].id))
    _, delete_one, _ = measure(repository, lambda: repository.delete(owner, newest[1].id))
    _, mark_all, requests = measure(repository, lambda: repository.mark_all_read(owner))

    assert mark_one <= 3.0
    assert delete_one <= 3.0
    assert (mark_all, requests) == (2.0, 1)
